"""Hyperparameter search figures (d2l 4.2 exercise, the course note's strategies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from jaxd2l.plot.figures import new_figure, save


def save_trials(rows: Sequence[Mapping[str, Any]], path) -> str:
    """A search's validation accuracy against learning rate, one line per (hidden, batch)."""
    curves: dict[str, list[Mapping[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: r["lr"]):
        curves.setdefault(f"hidden {r['hidden']}, batch {r['batch_size']}", []).append(r)
    fig = new_figure(5, 3.4)
    ax = fig.add_subplot()
    for label, rs in curves.items():
        ax.plot([r["lr"] for r in rs], [r["val_acc"] for r in rs], "o-", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save(fig, path)


def save_strategies(
    curves: Mapping[str, Sequence[Sequence[float]]], path, *, epochs: int = 1
) -> str:
    """Search strategies compared on one budget: for each, the best validation accuracy
    against trials spent, median over seeds (line) and their range (band)."""
    fig = new_figure(5, 3.4)
    ax = fig.add_subplot()
    for label, runs in curves.items():
        runs = np.asarray(runs, dtype=float)
        x = np.arange(1, runs.shape[1] + 1)
        line = ax.plot(x, np.nanmedian(runs, axis=0), "o-", ms=3, label=f"{label} (median)")
        ax.fill_between(
            x,
            np.nanmin(runs, axis=0),
            np.nanmax(runs, axis=0),
            color=line[0].get_color(),
            alpha=0.2,
        )
    finals = [run[-1] for runs in curves.values() for run in runs if np.isfinite(run[-1])]
    if finals:  # the early misses would squash the part where the strategies differ
        ax.set_ylim(bottom=max(0.0, min(finals) - 0.1))
    ax.set_xlabel(f"trials spent ({epochs} epoch{'s' if epochs > 1 else ''} each)")
    ax.set_ylabel("best validation accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save(fig, path)
