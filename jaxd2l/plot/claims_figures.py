"""The claims report's figures: means with their 95% intervals as curves, bars, or a
reliability diagram (`chapters.claims` says which)."""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxd2l.plot.figures import new_figure, save


def _curves(ax, figure: dict[str, Any]) -> None:
    x = np.asarray(figure["x"], float)
    for label, (mean, low, high) in figure["curves"].items():
        ax.plot(x, mean, marker="o", markersize=3, label=label)
        ax.fill_between(x, low, high, alpha=0.2)
    if figure.get("logx"):
        ax.set_xscale("log")
    ax.set_xlabel(figure["xlabel"])
    ax.set_ylabel(figure["ylabel"])
    ax.legend(fontsize=7)


def _reliability(ax, figure: dict[str, Any]) -> None:
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    for label, (accuracy, confidence) in figure["bins"].items():
        keep = np.asarray(confidence) > 0  # empty bins have no confidence
        ax.plot(np.asarray(confidence)[keep], np.asarray(accuracy)[keep], marker="o", label=label)
    ax.set_xlabel("confidence (top class probability, binned)")
    ax.set_ylabel("accuracy in the bin")
    ax.legend(fontsize=7)


def save_claim(figure: dict[str, Any], path: str, title: str) -> str:
    """One claim's figure: `figure["kind"]` is "curves", "bars" or "reliability"."""
    groups = figure.get("groups", {})
    fig = new_figure(5.2 * max(1, len(groups)) if figure["kind"] == "bars" else 5.6, 3.6)
    if figure["kind"] == "bars":
        for i, (group, bars) in enumerate(groups.items()):
            ax = fig.add_subplot(1, len(groups), i + 1)
            labels = list(bars)
            mean = np.array([bars[k][0] for k in labels], float)
            err = np.array(
                [[mean[j] - bars[k][1], bars[k][2] - mean[j]] for j, k in enumerate(labels)]
            ).T
            ax.bar(range(len(labels)), mean, yerr=np.abs(err), capsize=3)
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
            ax.set_title(group, fontsize=9)
    else:
        ax = fig.add_subplot()
        (_curves if figure["kind"] == "curves" else _reliability)(ax, figure)
    fig.suptitle(title, fontsize=10)
    return save(fig, path)
