"""Distribution-shift figures (d2l 4.9)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from jaxd2l.plot.figures import new_figure, save


def save_covariate_shift(figure: Mapping[str, Any], path) -> str:
    """Left: source draws, the true conditional, the three fitted lines, where the target
    lives. Right: estimated against true importance weights."""
    fig = new_figure(9, 3.4)
    left, right = fig.subplots(1, 2)
    xs, ys = np.asarray(figure["xs"])[:, 0], np.asarray(figure["ys"])[:, 0]
    left.scatter(xs, ys, s=3, alpha=0.3, color="gray", label="source draws")
    grid = np.linspace(min(xs.min(), -1.0), max(xs.max(), 1.5), 200)
    left.plot(grid, -grid + grid**3, "k--", lw=1, label="E[y | x]")
    for label, (a, c) in figure["lines"].items():
        left.plot(grid, float(a) * grid + float(c), label=label)
    x_test = np.asarray(figure["x_test"])[:, 0]
    left.axvspan(
        np.percentile(x_test, 2.5),
        np.percentile(x_test, 97.5),
        color="C2",
        alpha=0.1,
        label="target (95%)",
    )
    left.set_ylim(-2, 2)
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.legend(fontsize=7)
    right.scatter(np.asarray(figure["true"]), np.asarray(figure["estimated"]), s=3)
    top = float(np.max(figure["true"]))
    right.plot([0, top], [0, top], "k--", lw=1)
    right.set_xlabel("true ratio p_target / p_source (clipped)")
    right.set_ylabel("beta = exp(h(x)) (clipped)")
    return save(fig, path)


def save_label_shift(sweep: Mapping[str, Sequence[float]], path) -> str:
    """Left: the prior estimate's error against severity. Right: target accuracy as
    trained, corrected with the estimated priors, and with the true ones."""
    fig = new_figure(9, 3.2)
    left, right = fig.subplots(1, 2)
    s = sweep["severity"]
    left.plot(s, sweep["prior_error_tv"], "o-")
    left.set_xlabel("shift severity (0 uniform, 1 geometric priors)")
    left.set_ylabel("prior estimate error (total variation)")
    for key, label in (
        ("acc_trained", "as trained"),
        ("acc_corrected", "corrected (estimate)"),
        ("acc_oracle", "corrected (true priors)"),
    ):
        right.plot(s, sweep[key], "o-", label=label)
    right.set_xlabel("shift severity")
    right.set_ylabel("target accuracy")
    right.legend()
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    return save(fig, path)
