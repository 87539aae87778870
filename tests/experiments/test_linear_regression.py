import json

import jax
import numpy as np
import pytest

from experiments import linear_regression as exp
from jaxd2l.core.history import DivergedError


@pytest.mark.parametrize("impl", ["scratch", "concise", "nnx", "closed_form"])
def test_every_impl_recovers_w_and_b(impl, tmp_path):
    result = exp.main(exp.Config(impl=impl, out=str(tmp_path)))
    assert np.all(np.abs(result["final"]["w_err"]) < 0.01)
    assert abs(result["final"]["b_err"]) < 0.01
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "done" and saved["impl"] == impl
    for field in ("experiment", "config", "device", "final", "history", "timing"):
        assert field in saved
    assert (tmp_path / "scatter.png").stat().st_size > 0
    if impl != "closed_form":
        assert result["final"]["closed_form"]["loss"] <= result["final"]["loss"] + 1e-7


def test_one_epoch_smoke_run_writes_the_contract(tmp_path):
    result = exp.main(exp.Config(epochs=1, out=str(tmp_path)))
    assert len(result["history"]) == 1
    assert set(result["history"][0]) >= {"epoch", "train_loss", "seconds"}
    assert len(result["timing"]["epoch_s"]) == 1
    assert result["device"]["platform"] == jax.devices()[0].platform
    assert result["config"]["batch_size"] == 10


def test_learning_rate_sweep_shows_divergence_without_crashing(tmp_path):
    lrs = (0.001, 0.03, 0.3, 3.0)
    with pytest.raises(DivergedError, match=r"1 of 4 learning rates of --lrs diverged \(lr 3.0\)"):
        exp.main(exp.Config(lrs=lrs, out=str(tmp_path / "stops")))  # the default: exit 1
    record = json.loads((tmp_path / "stops" / "metrics.json").read_text())
    assert record["status"] == "diverged" and record["lr_sweep"]["3.0"]["diverged"]
    assert (tmp_path / "stops" / "lr_curves.png").stat().st_size > 0  # kept
    result = exp.main(exp.Config(lrs=lrs, out=str(tmp_path), stop_on_divergence=False))
    sweep = result["lr_sweep"]
    assert sweep["3.0"]["diverged"] and not sweep["0.03"]["diverged"]
    assert sweep["0.03"]["final_loss"] < 1e-3 < sweep["0.001"]["final_loss"]
    assert (tmp_path / "lr_curves.png").stat().st_size > 0
    json.loads((tmp_path / "metrics.json").read_text())  # strict JSON despite inf/nan
