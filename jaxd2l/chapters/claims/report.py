"""The claims report: claims.md (the table: claim, setting, verdict and each part's verdict;
then per claim its rule, parts and every measured value with its interval) and one figure
per claim. A smoke run (--quick) says so first, in every output."""

from __future__ import annotations

import os
from collections.abc import Sequence

from jaxd2l.chapters.claims.result import ClaimResult
from jaxd2l.chapters.claims.verdicts import describe
from jaxd2l.checks import files
from jaxd2l.plot.claims_figures import save_claim

HEADER = (
    "| # | the note says | setting | verdict | each part (primary first) |\n|---|---|---|---|---|\n"
)
SMOKE = "SMOKE RUN: --quick, two seeds and tiny data; its verdicts mean nothing"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def part_cells(r: ClaimResult) -> str:
    """Each part's name and verdict, primary first, for one table cell."""
    ordered = sorted(r.parts, key=lambda p: not p.primary)
    return "; ".join(
        f"{p.name}: {p.verdict}" + ("" if p.primary else " (secondary)") for p in ordered
    )


def markdown(
    results: Sequence[ClaimResult],
    figures: dict[str, str] | None = None,
    plan: dict | None = None,
    smoke: bool = False,
) -> str:
    """The report as Markdown: the summary table, then each claim's rule, its parts and
    every value it measured with its interval (and its figure, when `figures` names the
    files). `plan` ({path, sha256}) is cited; `smoke` puts the smoke-run warning first."""
    lines = [f"**{SMOKE}.**\n\n"] if smoke else []
    if plan:
        lines.append(f"Plan: `{plan['path']}`, sha256 `{plan['sha256']}`.\n\n")
    lines.append(HEADER)
    for r in results:
        lines.append(
            f"| {r.number} | {_cell(r.note)} | {_cell(r.setting)} | **{r.verdict}** | "
            f"{_cell(part_cells(r))} |\n"
        )
    for r in results:
        lines.append(f"\n## {r.number}. {r.name}: {r.verdict}\n\n> {r.note}\n\n")
        lines.append(f"Setting: {r.setting}.\n\nRule (written before the run): {r.rule}.\n\n")
        lines.extend(f"- {_cell(describe(p))}\n" for p in r.parts)
        lines.append("\n")
        lines.append("| measured | mean | 95% interval | seeds |\n|---|---|---|---|\n")
        for name, e in r.measured.items():
            lines.append(
                f"| {_cell(name)} | {e.mean:.4g} | [{e.low:.4g}, {e.high:.4g}] | {e.seeds} |\n"
            )
        if figures and r.name in figures:
            lines.append(f"\n![{r.name}]({figures[r.name]})\n")
    return "".join(lines)


def write_report(
    results: Sequence[ClaimResult], folder: str, plan: dict | None = None, smoke: bool = False
) -> dict[str, str]:
    """Write claims.md and one PNG per claim into `folder`; returns {name: figure file}.
    (claims.json is the run's record, written by the experiment.)"""
    figures = {}
    for r in results:
        figures[r.name] = f"claim{r.number:02d}_{r.name}.png"
        save_claim(r.figure, os.path.join(folder, figures[r.name]), f"{r.number}. {r.name}")
    with files.atomic_open(os.path.join(folder, "claims.md"), "w") as f:
        f.write("# The course note's claims, tested\n\n" + markdown(results, figures, plan, smoke))
    return figures
