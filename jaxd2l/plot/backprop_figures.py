"""Backprop figures (d2l 4.7): rematerialization's memory/FLOPs trade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jaxd2l.plot.figures import new_figure, save


def save_remat(depths: Sequence[int], runs: Sequence[Mapping[str, Mapping[str, float]]], path):
    """Rematerialization's trade in one figure: the training step's temporaries (left) and
    FLOPs (right) against depth, with the forward intermediates stored or recomputed."""
    fig = new_figure(9, 3.2)
    left, right = fig.subplots(1, 2)
    for name in runs[0]:
        left.plot(depths, [r[name]["temp_bytes"] / 2**20 for r in runs], "o-", label=name)
        right.plot(depths, [r[name]["flops"] / 1e9 for r in runs], "o-", label=name)
    left.set_ylabel("temporaries (MiB)")
    right.set_ylabel("GFLOPs per training step")
    for ax in (left, right):
        ax.set_xlabel("depth")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return save(fig, path)
