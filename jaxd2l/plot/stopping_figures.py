"""Early-stopping figures (d2l 4.5 and the course note's early stopping)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jaxd2l.plot.figures import new_figure, save


def save_stopped_runs(runs: Mapping[str, tuple[Sequence[Mapping[str, Any]], int]], path) -> str:
    """Train and validation accuracy against epoch for several runs side by side, the epoch
    early stopping kept marked (`runs`: title -> (history, best epoch))."""
    fig = new_figure(3.4 * len(runs), 3.0)
    axes = fig.subplots(1, len(runs), squeeze=False, sharey=True)[0]
    for ax, (title, (history, best)) in zip(axes, runs.items(), strict=True):
        x = history["epoch"]
        ax.plot(x, history["train_acc"], "--", label="train acc (noisy labels)")
        ax.plot(x, history["validation_acc"], "-", label="val acc")
        ax.axvline(best, color="gray", linestyle=":", label=f"kept: epoch {best}")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return save(fig, path)
