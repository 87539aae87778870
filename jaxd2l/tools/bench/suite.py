"""The benchmark as one call: its sections in order, a callback after each so a run that
fails keeps what it measured, then the headline figures and the figures' files."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from jaxd2l.tools.bench import limits as device_limits
from jaxd2l.tools.bench import report, scaling, sections
from jaxd2l.tools.bench.workloads import WORKLOADS

SECTIONS = (
    "limits",
    "models",
    "drivers",
    "precision",
    "trials",
    "devices",
    "startup",
    "reference",
)


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def run_sections(
    names: Sequence[str],
    data: dict[str, Any],
    *,
    models: Sequence[str],
    batch_sizes: Sequence[int],
    batch_size: int,
    repeats: int,
    epochs: int,
    trials: Sequence[int],
    quick: bool,
    on_section: Callable[[list[dict], dict | None], None],
) -> tuple[list[dict], dict | None]:
    """(records, limits) of the measuring sections in `names` (all but "reference");
    `on_section(records, limits)` runs after each. Drivers, precision, trials and devices
    time softmax and the MLP (`quick`: softmax only)."""
    records: list[dict] = []
    limits = None
    sweep_models = [WORKLOADS[m] for m in models]
    classifiers = [WORKLOADS[m] for m in ("softmax", "mlp") if not quick or m in models]
    if "limits" in names:
        progress("limits")
        limits = device_limits.measure(quick)
        n = len(data["fashion"][0][1])
        matmuls = sections.matmuls_alone(WORKLOADS["mlp"], batch_size, n, repeats)
        limits["mlp_matmuls_alone"] = {"batch_size": batch_size, **sections.spread(matmuls)}
        on_section(records, limits)
    roof = roof_of(limits)
    measures = {
        "models": lambda: sections.model_sweep(
            sweep_models, batch_sizes, data, repeats, roof, progress
        ),
        "drivers": lambda: sections.driver_comparison(
            classifiers, batch_size, epochs, data, repeats, progress
        ),
        "precision": lambda: scaling.precision_comparison(
            classifiers, batch_size, epochs, data, progress
        ),
        "trials": lambda: scaling.trials_scaling(
            classifiers, trials, batch_size, data, repeats, roof, progress
        ),
        "devices": lambda: scaling.device_scaling(classifiers, batch_size, data, repeats, progress),
    }
    for name, measure in measures.items():
        if name in names:
            records += measure()
            on_section(records, limits)
    return records, limits


def roof_of(limits: dict | None) -> dict:
    """The two roofs the bound is read against; without the limits section, none."""
    if limits is None:
        return {"peak_flops": float("inf"), "bandwidth": float("inf")}
    return {
        "peak_flops": limits["matmul_default"]["flops_per_s"],
        "bandwidth": limits["bandwidth"]["bytes_per_s"],
    }


def headlines(limits, records) -> list[str]:
    """The figures the issue asks for on this CPU, computed from this run."""
    lines = []
    batch = limits["mlp_matmuls_alone"]["batch_size"] if limits else None
    mlp_rows = [
        r
        for r in records
        if r["section"] == "models" and r["model"] == "mlp" and r["batch_size"] == batch
    ]
    if limits and mlp_rows:
        alone = limits["mlp_matmuls_alone"]["median"]
        row = mlp_rows[0]  # the sweep's row at the batch size the matmuls were timed at
        lines.append(
            f"MLP 784-256-10 at batch {batch}: epoch {row['median']:.3f} s = "
            f"{row['median'] / alone:.2f}x its own matmuls timed alone "
            f"({alone:.3f} s); {row['fraction_of_matmul']:.0%} of the matmul rate"
        )
    trials8 = [
        r
        for r in records
        if r["section"] == "trials" and r["model"] == "softmax" and r["trials"] == 8
    ]
    if limits and trials8:
        r = trials8[0]
        lines.append(
            f"8 vmapped softmax trials: {r['median']:.3f} s/epoch = "
            f"{r['median'] / r['time_at_matmul_rate']:.2f}x the time the matmul rate "
            "allows for their arithmetic"
        )
    drivers = {
        r["driver"]: r["median"]
        for r in records
        if r["section"] == "drivers" and r["model"] == "softmax"
    }
    if {"scan", "whole_run"} <= set(drivers):
        lines.append(
            f"softmax: scan driver {drivers['scan']:.3f} s/epoch, whole run "
            f"{drivers['whole_run']:.3f} s/epoch (evaluation included in both)"
        )
    return lines


def save_figures(records: list[dict], roof: dict, file: Callable[[str], str]) -> dict[str, str]:
    """throughput.png, roofline.png and trials.png, where their records exist; `file(name)`
    gives each one's path."""
    if not math.isfinite(roof["peak_flops"]):
        return {}
    paths = {}
    models = [r for r in records if r["section"] == "models"]
    if models:
        paths["throughput"] = report.plot_throughput(models, roof, file("throughput.png"))
        paths["roofline"] = report.plot_roofline(models, roof, file("roofline.png"))
    trials = [r for r in records if r["section"] == "trials"]
    if trials:
        paths["trials"] = report.plot_trials(trials, file("trials.png"))
    return paths


def notes(device: dict, data: dict) -> list[str]:
    """What the reader of the figures must know: random images in place of the data, or
    CPU devices that share the same cores."""
    lines = [data["note"]] if data.get("note") else []
    if device["platform"] == "cpu" and device["device_count"] > 1:
        lines.append(
            f"{device['device_count']} CPU devices share the same cores: the devices section "
            "shows that the sharded path works, not a speedup"
        )
    return lines


def markdown(device, limits, records, notes: list[str], reference_results=None) -> str:
    """bench.md: the report's tables, the notes and headlines, the reference table."""
    from jaxd2l.tools.bench import reference, report

    text = report.markdown(device, limits, records, notes + headlines(limits, records))
    if reference_results is not None:
        text += "\n## reference\n\n" + reference.table(reference_results) + "\n"
    return text
