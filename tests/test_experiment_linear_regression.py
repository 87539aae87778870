import json
import subprocess
import sys

import numpy as np
import pytest

from experiments import linear_regression as exp
from jaxd2l.experiment import parse_config


@pytest.mark.parametrize("impl", ["scratch", "concise", "closed_form"])
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
    assert result["timing"]["compile_s"] > 0 and len(result["timing"]["epoch_s"]) == 1
    assert result["device"]["platform"] == "cpu"
    assert result["config"]["batch_size"] == 10


def test_learning_rate_sweep_shows_divergence_without_crashing(tmp_path):
    result = exp.main(exp.Config(lrs=(0.001, 0.03, 0.3, 3.0), out=str(tmp_path)))
    sweep = result["lr_sweep"]
    assert sweep["3.0"]["diverged"] and not sweep["0.03"]["diverged"]
    assert sweep["0.03"]["final_loss"] < 1e-3 < sweep["0.001"]["final_loss"]
    assert (tmp_path / "lr_curves.png").stat().st_size > 0
    json.loads((tmp_path / "metrics.json").read_text())  # strict JSON despite inf/nan


def test_vmapped_sweep_equals_runs_one_by_one(key):
    import jax

    config = exp.Config(lrs=(0.01, 0.1), epochs=1)
    X, y = exp.synthetic_regression(key)
    k1, k2 = jax.random.key(1), jax.random.key(2)
    both = exp.lr_sweep(config, X, y, k1, k2)
    for lr in (0.01, 0.1):
        alone = exp.lr_sweep(exp.Config(lrs=(lr,), epochs=1), X, y, k1, k2)
        np.testing.assert_allclose(both[str(lr)], alone[str(lr)], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--lr", "-0.1"], "--lr"),
        (["--epochs", "0"], "--epochs"),
        (["--impl", "magic"], "--impl"),
        (["--lrs", "0.1,-3"], "--lrs"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as e:
        parse_config(exp.Config, argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert flag in err and len(err.splitlines()) == 1


def test_module_cli_help_and_bad_flag():
    ok = subprocess.run(
        [sys.executable, "-m", "experiments.linear_regression", "--help"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "--batch-size" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "experiments.linear_regression", "--batch-size", "0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--batch-size" in bad.stderr


def test_config_checks_apply_to_research_callers_too():
    with pytest.raises(ValueError, match="--batch-size"):
        exp.Config(batch_size=0)


def test_a_flag_found_bad_later_also_exits_2(tmp_path, capsys):
    from experiments import perceptron
    from jaxd2l.experiment import run_cli

    with pytest.raises(SystemExit) as e:  # a margin too wide shows only once data is drawn
        run_cli(perceptron.main, perceptron.Config, ["--margin", "0.99", "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--margin" in err and len(err.splitlines()) == 1
