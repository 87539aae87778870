"""Live progress: a line per epoch in a terminal, d2l's Animator figure in Jupyter."""

from __future__ import annotations

import io
import sys
from typing import Any

from jaxd2l.core.history import stack

_ORDER = ("train_loss", "train_acc", "test_loss", "test_acc")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain IPython terminal)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class EpochPrinter:
    """Prints `epoch 3/10  train_loss 0.5012  train_acc 0.8312  test_acc 0.8190  0.07s`."""

    def __init__(self, epochs: int, stream=None):
        self.epochs = epochs
        self.stream = stream or sys.stdout

    def __call__(self, record: dict[str, Any]) -> None:
        figures = [f"{k} {record[k]:.4f}" for k in _ORDER if k in record]
        width = len(str(self.epochs))
        line = f"epoch {record['epoch']:>{width}}/{self.epochs}  " + "  ".join(figures)
        print(f"{line}  {record['seconds']:.3f}s", file=self.stream, flush=True)


class Animator:
    """d2l's Animator: redraws train loss/acc and test acc against epoch in a notebook."""

    def __init__(self, epochs: int):
        from matplotlib.figure import Figure

        self.epochs = epochs
        self.history: list[dict[str, Any]] = []
        self.figure = Figure(figsize=(4.5, 3))
        self.display_handle = None

    def __call__(self, record: dict[str, Any]) -> None:
        from IPython import display

        from jaxd2l.plot import draw_curves

        self.history.append(record)
        self.figure.clear()
        draw_curves(self.figure.add_subplot(), stack(self.history), self.epochs)
        png = io.BytesIO()  # a PNG, shown the same with or without matplotlib's inline backend
        self.figure.savefig(png, format="png", dpi=100)
        image = display.Image(data=png.getvalue(), format="png")
        if self.display_handle is None:
            self.display_handle = display.display(image, display_id=True)
        else:
            self.display_handle.update(image)


def default_progress(epochs: int):
    """The Animator in Jupyter, the EpochPrinter elsewhere."""
    return Animator(epochs) if in_notebook() else EpochPrinter(epochs)
