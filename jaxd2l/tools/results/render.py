"""Pages and README blocks rendered from `results/`: the headline table (jaxd2l against the
book's PyTorch code and a tuned PyTorch), the init table, the claims, the experiments table,
the benchmark report, each with the provenance of the record it came from.

A generated block sits between `<!-- results:NAME -->` and `<!-- /results:NAME -->`;
`update_readme` rewrites the README's and `write_pages` writes the docs' Results page
(`check.typed_figures` finds measured figures typed outside such blocks).
"""

from __future__ import annotations

import os
import re

from jaxd2l.checks import files
from jaxd2l.tools.accel_check import ROOT
from jaxd2l.tools.bench import reference, suite
from jaxd2l.tools.results.catalog import ENTRIES
from jaxd2l.tools.results.claims_render import claims_line, claims_table
from jaxd2l.tools.results.make import RESULTS
from jaxd2l.tools.results.provenance import line
from jaxd2l.tools.results.records import load
from jaxd2l.tools.results.stale import mark_stale, stale_records

README = os.path.join(ROOT, "README.md")
INITS = (
    "mlp_scratch",
    "mlp_init_zeros",
    "mlp_init_xavier",
    "mlp_init_he",
    "mlp_init_pretrain",
    "mlp_deep_normal",
    "mlp_deep_he",
    "mlp_deep_pretrain",
)


def _source(payload: dict) -> str:
    return f"Source: `results/{payload['name']}.json`, {line(payload['provenance'])}."


def _missing(name: str) -> str:
    return f"(no record yet: `make results NAMES={name}` makes it)"


def headline(records: dict) -> str:
    """jaxd2l, the book's PyTorch code and a tuned PyTorch on the chapter's softmax and MLP."""
    payload = records.get("benchmark_reference")
    if payload is None or "reference" not in payload["record"]:
        return _missing("benchmark_reference")
    table = reference.table(payload["record"]["reference"])
    note = (
        "10 epochs, batch 256, lr 0.1, scratch implementations, 5 seeds each; s/epoch: "
        "median training seconds per epoch; whole run: median seconds of a 10-epoch run, "
        "compilation and evaluation included."
    )
    if "tuned PyTorch" not in table:
        note += " PyTorch rows need torch installed when the record is made."
    return f"{table}\n\n{note}\n\n{_source(payload)}"


def init_table(records: dict) -> str:
    """The init schemes of the MLP exercise, pre-training included."""
    rows = [
        "| net | init | test acc | train loss | first-layer rank after training |",
        "|---|---|---|---|---|",
    ]
    sources = []
    for name in INITS:
        if name not in records:
            continue
        r = records[name]["record"]
        after = r.get("hidden_units_after", {})
        rows.append(
            f"| {r['architecture']} | {r['config']['init']} | "
            f"{r['final']['test_acc']:.3f} | {r['final']['train_loss']:.3f} | "
            f"{after.get('rank', '')} |"
        )
        sources.append(records[name])
    if not sources:
        return _missing("mlp_init_he")
    commands = "; ".join(
        f"`results/{p['name']}.json` (`{p['provenance']['command']}`)" for p in sources
    )
    prov = line(sources[0]["provenance"]).split("` at ", 1)[1]
    return "\n".join(rows) + f"\n\nSources: {commands}; at {prov}."


def model_selection_table(records: dict) -> str:
    """The book's fits across draws of the data (seeds): train / test MSE."""
    rows = [
        "| seed | 4 features train / test | 20 features train / test | CV picks |",
        "|---|---|---|---|",
    ]
    names = ["model_selection"] + [f"model_selection_seed{s}" for s in (0, 2, 3, 4, 5)]
    found = sorted(
        (records[n] for n in names if n in records), key=lambda p: p["record"]["config"]["seed"]
    )
    for p in found:
        final, seed = p["record"]["final"], p["record"]["config"]["seed"]
        fits = final["fits"]
        cells = [
            f"{fits[d]['train']:.4f} / {fits[d]['test']:.4f}" if d in fits else ""
            for d in ("4", "20")
        ]
        rows.append(
            f"| {seed} | {cells[0]} | {cells[1]} | {final['cross_validation']['chosen_degree']} |"
        )
    if not found:
        return _missing("model_selection")
    prov = line(found[0]["provenance"]).split("` at ", 1)[1]
    return "\n".join(rows) + (
        f"\n\nSources: `python -m experiments.model_selection "
        f"[--seed S]` (`results/model_selection*.json`) at {prov}."
    )


def vmapped_trials(records: dict) -> str:
    """Eight softmax trials in one program against one alone."""
    payload = records.get("hparam_softmax_lrs")
    if payload is None:
        return _missing("hparam_softmax_lrs")
    speed = payload["record"]["final"]["vmap_speed"]
    cells = " / ".join(
        f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in speed.items()
    )
    return f"{payload['summary']}\n\n`vmap_speed`: {cells}\n\n{_source(payload)}"


def experiments_table(records: dict) -> str:
    """Each documented run: its command, d2l section and headline (the run's own summary)."""
    rows = ["| run | d2l | headline (the run's summary line) |", "|---|---|---|"]
    for e in ENTRIES:
        payload = records.get(e.name)
        said = payload["summary"] if payload else _missing(e.name)
        rows.append(f"| `{e.command}` | {e.section} | {str(said).replace('|', '/')} |")
    if records:
        first = min(records.values(), key=lambda p: p["provenance"]["date"])
        prov = line(first["provenance"]).split("` at ", 1)[1]
        rows.append(
            f"\nEach row's record is `results/NAME.json` (NAME as in `make results`); "
            f"the first was made at {prov}."
        )
    return "\n".join(rows)


def benchmark(records: dict) -> str:
    """The accelerator benchmark's report, re-rendered from its record."""
    payload = records.get("benchmark")
    if payload is None:
        return _missing("benchmark")
    r = payload["record"]
    text = suite.markdown(
        r["device"], r.get("limits"), r.get("records", []), r.get("notes", []), r.get("reference")
    )
    return f"{text}\n\n{_source(payload)}"


BLOCKS = {"headline": headline, "init": init_table, "claims": claims_line}
"""The README's generated blocks."""


def block(name: str, content: str) -> str:
    """A generated block, markers included."""
    return f"<!-- results:{name} -->\n{content.strip()}\n<!-- /results:{name} -->"


def replace_blocks(text: str, contents: dict[str, str]) -> str:
    """`text` with each named block's content replaced (the markers must be there)."""
    for name, content in contents.items():
        pattern = re.compile(rf"<!-- results:{name} -->.*?<!-- /results:{name} -->", re.S)
        if not pattern.search(text):
            raise ValueError(f"no generated block {name!r} (<!-- results:{name} -->) to fill")
        filled = block(name, content)
        text = pattern.sub(lambda _, filled=filled: filled, text)
    return text


def readme_blocks(folder: str = RESULTS) -> dict[str, str]:
    return {name: render(load(folder)) for name, render in BLOCKS.items()}


def update_readme(folder: str = RESULTS, path: str = README) -> None:
    """Rewrite the README's generated blocks from the records in `folder`."""
    with open(path) as fh:
        text = fh.read()
    new = replace_blocks(text, readme_blocks(folder))  # every record read and rendered first
    files.write_text(path, new)


def results_page(folder: str = RESULTS) -> str:
    """The docs' Results page: every table, its provenance under it."""
    r = load(folder)
    parts = [
        "# Results\n\nEvery figure on this page is rendered, when the docs build, from the "
        "records in `results/` that `make results` writes (one JSON per run: what the run "
        "measured, the command, the commit, the versions, the device and the date). Nothing "
        "here is typed by hand.\n",
        "## jaxd2l against the book's PyTorch code and a tuned PyTorch\n\n" + headline(r),
        "## Weight initialisation, pre-training included\n\n" + init_table(r),
        "## The course note's claims\n\n"
        + claims_table(r)
        + "\n\nThe figures and every measured value: {doc}`chapters/claims`.",
        "## Model selection across draws of the data\n\n" + model_selection_table(r),
        "## Vmapped trials\n\n" + vmapped_trials(r),
        "## Every documented run\n\n" + experiments_table(r),
        "## Accelerator benchmark\n\n" + benchmark(r),
    ]
    return mark_stale("\n\n".join(parts) + "\n", stale_records(r))


def write_pages(docs: str, folder: str = RESULTS) -> None:
    """Write the docs' generated page (results.md) from the records."""
    files.write_text(os.path.join(docs, "results.md"), results_page(folder))
