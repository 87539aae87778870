"""bench.md tables and the figures: throughput against batch size with the device's limits,
the roofline, and trials scaling."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from jaxd2l.plot import new_figure, save


def _g(x: float | None) -> str:
    return "" if x is None else f"{x:.3g}"


def limits_table(limits: dict[str, Any]) -> str:
    m, h, bw = limits["matmul_default"], limits["matmul_highest"], limits["bandwidth"]
    d, t = limits["dispatch"], limits["host_to_device"]
    rows = [
        ("matmul float32, default precision", f"{m['flops_per_s'] / 1e9:.1f} GFLOP/s (n={m['n']})"),
        ("matmul float32, highest precision", f"{h['flops_per_s'] / 1e9:.1f} GFLOP/s (n={h['n']})"),
        (f"memory bandwidth ({bw['kind']})", f"{bw['bytes_per_s'] / 1e9:.1f} GB/s"),
        ("one dispatch of a tiny jitted function", f"{d['median'] * 1e6:.1f} us"),
        ("host to device", f"{t['bytes_per_s'] / 1e9:.2f} GB/s"),
    ]
    return "| limit | measured |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def records_table(records: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "| " + " | ".join(title for title, _ in columns) + " |"
    rule = "|" + "---|" * len(columns)
    lines = [head, rule]
    for r in records:
        cells = []
        for _, key in columns:
            v = r.get(key)
            cells.append(_g(v) if isinstance(v, float) else ("" if v is None else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SECTION_COLUMNS = {
    "models": [
        ("model", "model"),
        ("batch", "batch_size"),
        ("s/epoch", "median"),
        ("min", "min"),
        ("max", "max"),
        ("compile s", "compile_s"),
        ("examples/s", "examples_per_s"),
        ("steps/s", "steps_per_s"),
        ("FLOPs/step", "flops"),
        ("bytes/step", "bytes"),
        ("FLOP/s", "achieved_flops_per_s"),
        ("of matmul", "fraction_of_matmul"),
        ("bound", "bound"),
    ],
    "drivers": [
        ("model", "model"),
        ("driver", "driver"),
        ("s/epoch", "median"),
        ("min", "min"),
        ("max", "max"),
        ("param diff vs scan", "max_param_diff_vs_scan"),
        ("with eval", "includes_eval"),
    ],
    "precision": [
        ("model", "model"),
        ("dtype", "dtype"),
        ("s/epoch", "median"),
        ("test acc", "test_acc"),
        ("train loss", "train_loss"),
    ],
    "trials": [
        ("model", "model"),
        ("trials", "trials"),
        ("s/epoch", "median"),
        ("trial-epochs/s", "trial_epochs_per_s"),
        ("sequential", "sequential_trial_epochs_per_s"),
        ("of matmul", "fraction_of_matmul"),
        ("at matmul rate s", "time_at_matmul_rate"),
    ],
    "devices": [
        ("model", "model"),
        ("devices", "devices"),
        ("batch", "batch_size"),
        ("s/epoch", "median"),
        ("min", "min"),
        ("max", "max"),
    ],
}


def markdown(device: dict, limits: dict | None, records: list[dict], notes: list[str]) -> str:
    parts = [
        f"# jaxd2l benchmark: {device['device_count']} x {device['device_kind']} "
        f"({device['platform']}), jax {device['jax_version']}",
    ]
    parts += [f"- {n}" for n in notes]
    if limits is not None:
        parts += ["## Device limits", limits_table(limits)]
    by_section = defaultdict(list)
    for r in records:
        by_section[r["section"]].append(r)
    for section, columns in SECTION_COLUMNS.items():
        if by_section[section]:
            parts += [f"## {section}", records_table(by_section[section], columns)]
    return "\n\n".join(parts) + "\n"


def _label_axes(ax, xlabel: str, ylabel: str, xbase: float = 10) -> None:
    """Log-log axes with labels, a light grid and a small legend."""
    ax.set_xscale("log", base=xbase)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def plot_throughput(records: list[dict], limits: dict, path: str) -> str:
    """examples/s against batch size per model; dashed: the examples/s that the matmul rate
    would allow for that model's FLOPs per example."""
    fig = new_figure(5.5, 3.8)
    ax = fig.add_subplot()
    by_model = defaultdict(list)
    for r in records:
        by_model[r["model"]].append(r)
    for model, rs in by_model.items():
        rs = sorted(rs, key=lambda r: r["batch_size"])
        b = [r["batch_size"] for r in rs]
        (line,) = ax.plot(b, [r["examples_per_s"] for r in rs], "o-", label=model)
        per_example = np.array([r["flops"] / r["batch_size"] for r in rs])
        ax.plot(b, limits["peak_flops"] / per_example, "--", color=line.get_color(), alpha=0.6)
    _label_axes(ax, "batch size", "examples / s (dashed: matmul-rate limit)", xbase=2)
    return save(fig, path)


def plot_roofline(records: list[dict], limits: dict, path: str) -> str:
    """Achieved FLOP/s against arithmetic intensity, one point per model and batch size,
    under the roof min(peak, bandwidth x intensity)."""
    fig = new_figure(5.5, 3.8)
    ax = fig.add_subplot()
    ai = np.array([r["arithmetic_intensity"] for r in records])
    x = np.geomspace(min(ai.min(), 0.1), max(ai.max(), 1000) * 2, 200)
    ax.plot(x, np.minimum(limits["peak_flops"], limits["bandwidth"] * x), "k-", label="roof")
    for model in dict.fromkeys(r["model"] for r in records):
        rs = [r for r in records if r["model"] == model]
        ax.plot(
            [r["arithmetic_intensity"] for r in rs],
            [r["achieved_flops_per_s"] for r in rs],
            "o",
            label=model,
        )
    _label_axes(ax, "arithmetic intensity (FLOPs / byte)", "achieved FLOP/s")
    return save(fig, path)


def plot_trials(records: list[dict], path: str) -> str:
    """Trial-epochs per second against the number of trials: vmapped (solid) against one
    after another (dashed)."""
    fig = new_figure(5.5, 3.8)
    ax = fig.add_subplot()
    for model in dict.fromkeys(r["model"] for r in records):
        rs = sorted((r for r in records if r["model"] == model), key=lambda r: r["trials"])
        n = [r["trials"] for r in rs]
        (line,) = ax.plot(n, [r["trial_epochs_per_s"] for r in rs], "o-", label=f"{model} vmap")
        seq = rs[0]["sequential_trial_epochs_per_s"]
        ax.plot(n, [seq] * len(n), "--", color=line.get_color(), label=f"{model} sequential")
    _label_axes(ax, "trials", "trial-epochs / s", xbase=2)
    return save(fig, path)
