import numpy as np
import pytest

from jaxd2l import plot


def test_image_grid_rejects_bad_shapes(tmp_path):
    plot.save_image_grid(np.zeros((3, 8, 8, 1)), ["a", "b", "c"], tmp_path / "ok.png")
    assert (tmp_path / "ok.png").stat().st_size > 0
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        plot.save_image_grid(np.zeros((3, 8)), ["a"], tmp_path / "bad.png")


def test_figures_of_non_finite_values_are_refused(tmp_path):
    x = np.array([-np.inf, 0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        plot.save_function_panels(x, {"relu": {"relu": np.zeros(5)}}, tmp_path / "a.png")
    with pytest.raises(ValueError, match="NaN or infinite values only"):
        plot.save_lines({"lr=3": [np.nan, np.inf]}, tmp_path / "b.png", xlabel="", ylabel="")
    plot.save_lines({"lr=3": [1.0, np.inf]}, tmp_path / "c.png", xlabel="", ylabel="")  # a gap
