"""House-price figures (d2l 4.10): the grid of validation scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from jaxd2l.plot.figures import new_figure, save, save_loss_panels


def save_grid(grid: Mapping[str, Any], rows: Sequence[float], cols: Sequence[float], path) -> str:
    """One heat map per model of a [rows, cols] grid of scores (validation log-RMSE over
    learning rate x weight decay), each cell labelled with its value."""
    fig = new_figure(3.4 * len(grid), 3.0)
    axes = fig.subplots(1, len(grid), squeeze=False)[0]
    finite = np.concatenate([np.ravel(v) for v in grid.values()]).astype(float)
    finite = finite[np.isfinite(finite)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    for ax, (name, values) in zip(axes, grid.items(), strict=True):
        values = np.asarray(values, dtype=float)
        ax.imshow(values, cmap="viridis_r", aspect="auto", vmin=lo, vmax=hi)  # one scale
        for (i, j), v in np.ndenumerate(values):
            light = (v - lo) / max(hi - lo, 1e-12) < 0.5  # low scores are drawn light
            ax.text(
                j,
                i,
                f"{v:.3f}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if light else "white",
            )
        ax.set_xticks(range(len(cols)), [f"{c:g}" for c in cols])
        ax.set_yticks(range(len(rows)), [f"{r:g}" for r in rows])
        ax.set_xlabel("weight decay")
        ax.set_ylabel("learning rate")
        ax.set_title(name)
    return save(fig, path)


def save_folds(curves: Mapping[str, Any], num_folds: int, path) -> str:
    """One panel per fold: train and validation log-RMSE against epoch."""
    panels = {
        f"fold {i + 1}": {k: curves[k][i] for k in ("train", "val")} for i in range(num_folds)
    }
    return save_loss_panels(panels, path, ylabel="log rmse")
