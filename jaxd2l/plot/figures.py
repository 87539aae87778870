"""Headless figures (PNG through matplotlib's Figure, no pyplot state), like d2l's plots."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from jaxd2l.checks import files
from jaxd2l.checks.errors import ArgumentError


def new_figure(width: float, height: float, layout: str | None = "constrained"):
    """A matplotlib Figure of that size in inches, with no pyplot state."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def preload() -> None:
    """Import matplotlib and load its fonts in a background thread, so a run that draws its
    figures at the end does not wait for them then (it overlaps with training, which runs
    in XLA with the GIL released)."""
    import io
    import threading

    def load():
        fig = new_figure(1, 1, layout=None)
        fig.add_subplot().set_title("warm-up\ntext")
        fig.savefig(io.BytesIO(), format="png", dpi=20)

    # Not a daemon: the interpreter waits for it at exit (a daemon thread still inside
    # matplotlib's C code when a stopped run exits can abort the process).
    threading.Thread(target=load, name="jaxd2l-preload-matplotlib").start()


def finite(values, what: str, gaps_ok: bool = False) -> np.ndarray:
    """Values to draw as floats; refuse non-finite ones (a curve may keep gaps where a run
    diverged, when `gaps_ok`, but needs some finite point)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if (gaps_ok and not finite.any()) or (not gaps_ok and not finite.all()):
        raise ArgumentError(
            f"cannot draw {what}: it holds NaN or infinite values"
            + (" only" if gaps_ok else "")
            + " (a diverged run, or an infinite span): lower the learning rate or the span"
        )
    return values


def save(fig, path: str | os.PathLike) -> str:
    """Write `fig` to `path` (its folder made; the format from the suffix, PNG by default)
    atomically; returns the path."""
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    with files.atomic_open(path, "wb") as fh:
        fig.savefig(fh, format=fmt, dpi=110)
    return str(path)


def draw_curves(ax, history: Mapping[str, Any], epochs: int | None = None) -> None:
    """d2l's train_ch3 figure: train loss, train acc and test acc against epoch."""
    x = history["epoch"]
    for key, style in (("train_loss", "-"), ("train_acc", "--"), ("test_acc", "-.")):
        if key in history:
            ax.plot(x, history[key], style, label=key.replace("_", " "))
    ax.set_xlabel("epoch")
    right = max(epochs or 1, int(x[-1]) if len(x) else 1)
    if right > 1:
        ax.set_xlim(1, right)
    ax.grid(True, alpha=0.3)
    ax.legend()


def save_curves(history: Mapping[str, Any], path, epochs: int | None = None) -> str:
    fig = new_figure(4.5, 3.2, layout=None)  # fixed margins: a solver costs more than the plot
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.96)
    draw_curves(fig.add_subplot(), history, epochs)
    return save(fig, path)


def save_scatter(x, y, path, *, xlabel: str = "x", ylabel: str = "y") -> str:
    """d2l 3.3: the scatter of one feature against the labels."""
    fig = new_figure(4.0, 3.0)
    ax = fig.add_subplot()
    ax.scatter(np.asarray(x), np.asarray(y), s=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return save(fig, path)


def save_lines(
    curves: Mapping[str, Sequence[float]],
    path,
    *,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    x: Sequence[float] | None = None,
    logx: bool = False,
) -> str:
    """Several labelled curves on one axis; non-finite points (divergence) leave gaps."""
    fig = new_figure(5.0, 3.4)
    ax = fig.add_subplot()
    for label, ys in curves.items():
        ys = finite(ys, f"the curve {label!r}", gaps_ok=True)
        xs = np.arange(1, len(ys) + 1) if x is None else finite(x, "x")
        ax.plot(xs, ys, label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        values = [float(v) for v in (x if x is not None else [])]
        positive = [v for v in values if v > 0]
        if positive and len(positive) == len(values):
            ax.set_xscale("log")
        else:  # a 0 on the axis (lambda = 0): linear near it, logarithmic beyond
            ax.set_xscale("symlog", linthresh=min(positive or [1.0]))
            ax.set_xlim(left=min(values or [0.0]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save(fig, path)


def save_function_panels(
    x, panels: Mapping[str, Mapping[str, Sequence[float]]], path, *, xlabel: str = "x"
) -> str:
    """One panel per title, each with labelled curves over x (losses, activations)."""
    x = finite(x, "x")
    panels = {
        title: {label: finite(ys, f"{title}: {label}") for label, ys in curves.items()}
        for title, curves in panels.items()
    }
    fig = new_figure(3.2 * len(panels), 3.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, curves) in zip(axes, panels.items(), strict=True):
        for label, ys in curves.items():
            ax.plot(x, ys, label=label)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return save(fig, path)


def save_image_grid(
    images,
    titles: Sequence[str],
    path,
    *,
    ncols: int = 9,
    title_colors: Sequence[str] | None = None,
    scale: float = 1.5,
) -> str:
    """d2l's show_images: a grid of grey images [N, H, W] or [N, H, W, 1] with titles."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ArgumentError(f"images must be [N, H, W] or [N, H, W, 1], got {images.shape}")
    n = len(images)
    nrows = max(1, math.ceil(n / ncols))
    title_in = 0.35  # room for a two-line title above each image
    height = (scale + title_in) * nrows
    fig = new_figure(scale * min(ncols, n), height, layout=None)  # fixed grid: no layout solver
    fig.subplots_adjust(
        left=0.01,
        right=0.99,
        bottom=0.01,
        top=1 - title_in / height,
        wspace=0.05,
        hspace=title_in / scale,
    )
    axes = fig.subplots(nrows, min(ncols, n), squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < n:
            ax.imshow(images[i], cmap="gray")
            color = title_colors[i] if title_colors else "black"
            ax.set_title(titles[i], fontsize=8, color=color)
    return save(fig, path)


def save_heatmap(values, path, *, extent, points=None, point_labels=None) -> str:
    """A map of values over a 2-D box (e.g. P(class 1)), with labelled points on top."""
    fig = new_figure(3.6, 3.0)
    ax = fig.add_subplot()
    image = ax.imshow(
        np.asarray(values), origin="lower", extent=extent, cmap="coolwarm", vmin=0, vmax=1
    )
    fig.colorbar(image, ax=ax)
    if points is not None:
        ax.scatter(
            points[:, 0],
            points[:, 1],
            c=point_labels,
            cmap="coolwarm",
            edgecolors="k",
            s=80,
            vmin=0,
            vmax=1,
        )
    return save(fig, path)


def save_loss_panels(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    path,
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    logy: bool = True,
) -> str:
    """One panel per fit, its labelled curves against epoch (d2l 4.4/4.5's train and test
    loss on a log scale), side by side with a shared y axis."""
    fig = new_figure(3.2 * len(panels), 3.0)
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (title, curves) in zip(axes, panels.items(), strict=True):
        for label, ys in curves.items():
            ys = finite(ys, f"{title}: {label}", gaps_ok=True)
            ax.plot(np.arange(1, len(ys) + 1), ys, label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small" if len(curves) > 4 else None)
    axes[0].set_ylabel(ylabel)
    return save(fig, path)


def save_curve_panels(histories: Mapping[str, Sequence[Mapping[str, Any]]], path) -> str:
    """d2l's train_ch3 figure for several runs side by side (e.g. with and without dropout)."""
    fig = new_figure(4.0 * len(histories), 3.2)
    axes = fig.subplots(1, len(histories), squeeze=False, sharey=True)[0]
    for ax, (title, history) in zip(axes, histories.items(), strict=True):
        draw_curves(ax, history)
        ax.set_title(title)
    return save(fig, path)
