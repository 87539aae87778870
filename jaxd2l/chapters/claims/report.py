"""The claims report: claims.json (every measured value with its interval), claims.md (the
table: claim, setting, measured, interval, verdict) and one figure per claim."""

from __future__ import annotations

import os
from collections.abc import Sequence

from jaxd2l.chapters.claims.result import ClaimResult
from jaxd2l.core import files
from jaxd2l.plot.claims_figures import save_claim

HEADER = (
    "| # | the note says | setting | measured (mean [95% interval] over seeds) | verdict |\n"
    "|---|---|---|---|---|\n"
)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(results: Sequence[ClaimResult], figures: dict[str, str] | None = None) -> str:
    """The report as Markdown: the summary table, then each claim's rule and every value it
    measured with its interval (and its figure, when `figures` names the files)."""
    lines = [HEADER]
    for r in results:
        lines.append(
            f"| {r.number} | {_cell(r.note)} | {_cell(r.setting)} | {_cell(r.reason)} | "
            f"**{r.verdict}** |\n"
        )
    for r in results:
        lines.append(f"\n## {r.number}. {r.name}: {r.verdict}\n\n> {r.note}\n\n")
        lines.append(f"Setting: {r.setting}.\n\nRule (written before the run): {r.rule}.\n\n")
        lines.append("| measured | mean | 95% interval | seeds |\n|---|---|---|---|\n")
        for name, e in r.measured.items():
            lines.append(
                f"| {_cell(name)} | {e.mean:.4g} | [{e.low:.4g}, {e.high:.4g}] | {e.seeds} |\n"
            )
        if figures and r.name in figures:
            lines.append(f"\n![{r.name}]({figures[r.name]})\n")
    return "".join(lines)


def write_report(results: Sequence[ClaimResult], folder: str) -> dict[str, str]:
    """Write claims.md and one PNG per claim into `folder`; returns {name: figure file}.
    (claims.json is the run's record, written by the experiment.)"""
    figures = {}
    for r in results:
        figures[r.name] = f"claim{r.number:02d}_{r.name}.png"
        save_claim(r.figure, os.path.join(folder, figures[r.name]), f"{r.number}. {r.name}")
    with files.atomic_open(os.path.join(folder, "claims.md"), "w") as f:
        f.write("# The course note's claims, tested\n\n" + markdown(results, figures))
    return figures
