"""`make results`: run the documented set and rewrite `results/NAME.json`, one record per run
(what the run wrote, plus its provenance), then the README's generated blocks.

Each run is a child process (`python -m experiments.NAME ... --out TMP`) whose output is
shown as it goes. A run that fails leaves its old record in place and is named at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from jaxd2l.checks import files
from jaxd2l.checks.errors import UserError
from jaxd2l.tools.accel_check import ROOT
from jaxd2l.tools.results.catalog import BY_NAME, ENTRIES, Entry
from jaxd2l.tools.results.provenance import provenance

RESULTS = os.path.join(ROOT, "results")
"""The committed records."""


def pick(names: Sequence[str]) -> list[Entry]:
    """The entries named (all when none), in catalog order; an unknown name is an error
    listing the known ones."""
    unknown = sorted(set(names) - set(BY_NAME))
    if unknown:
        raise UserError(f"unknown result {', '.join(unknown)}: choose from {', '.join(BY_NAME)}")
    return [e for e in ENTRIES if not names or e.name in names]


def record_of(entry: Entry, out: str) -> dict:
    """The run's own record (metrics.json), its output folder forgotten."""
    with open(os.path.join(out, "metrics.json")) as fh:
        record = json.load(fh)
    record.get("config", {})["out"] = None
    record.pop("bench_json", None)
    return record


def run_entry(entry: Entry, folder: str = RESULTS, log: Callable[[str], None] = print) -> bool:
    """Run one entry and write `folder/NAME.json`; False (old record kept) if it failed."""
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", f"experiments.{entry.module}", *entry.args, "--out", out]
        t0 = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in child.stdout:
            log(f"    {line.rstrip()}")
        if child.wait() != 0 or not os.path.exists(os.path.join(out, "metrics.json")):
            log(f"  {entry.name}: failed (exit {child.returncode}); its old record is kept")
            return False
        record = record_of(entry, out)
    payload = {
        "name": entry.name,
        "module": entry.module,
        "section": entry.section,
        "provenance": provenance(entry.command, record.get("device")),
        "wall_s": time.perf_counter() - t0,
        "summary": record.get("summary"),
        "record": record,
    }
    path = os.path.join(folder, f"{entry.name}.json")  # a whole record or the old one
    files.write_json(path, payload, indent=1, sort_keys=True, allow_nan=True)
    return True


def make(names: Sequence[str], folder: str = RESULTS, log: Callable[[str], None] = print) -> int:
    """Run the entries named (all when none), then rewrite the README's blocks; the exit
    status: 0, or 1 when a run failed."""
    from jaxd2l.tools.results.render import update_readme

    entries, failed = pick(names), []
    t_start = time.perf_counter()
    for i, entry in enumerate(entries, start=1):
        elapsed = time.perf_counter() - t_start
        log(f"[{i}/{len(entries)}, {elapsed / 60:.1f} min] {entry.name}: {entry.command}")
        if not run_entry(entry, folder, log):
            failed.append(entry.name)
    update_readme(folder)
    log(
        f"wrote {len(entries) - len(failed)} records in {folder} and the README's blocks "
        f"({(time.perf_counter() - t_start) / 60:.1f} min)"
    )
    if failed:
        log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0
