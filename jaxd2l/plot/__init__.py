"""Figures: the shared helpers (`jaxd2l.plot.figures`, re-exported here), one module of
figures per chapter that needs its own (`search_figures`, `stopping_figures`,
`shift_figures`, `backprop_figures`, `house_figures`), and live progress (`progress`).
Headless PNGs through matplotlib's Figure; matplotlib loads on first draw.
"""

from jaxd2l.plot.figures import (
    draw_curves,
    finite,
    new_figure,
    preload,
    save,
    save_curve_panels,
    save_curves,
    save_function_panels,
    save_heatmap,
    save_image_grid,
    save_lines,
    save_loss_panels,
    save_scatter,
)

__all__ = [
    "draw_curves",
    "new_figure",
    "finite",
    "preload",
    "save",
    "save_curve_panels",
    "save_curves",
    "save_function_panels",
    "save_heatmap",
    "save_image_grid",
    "save_lines",
    "save_loss_panels",
    "save_scatter",
]

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
