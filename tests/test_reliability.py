"""The caller's arrays are safe, divergence is reported, output and data problems end in one
line, and runs are deterministic."""

import gzip
import importlib
import json
import math
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l import loop, plot, train
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.errors import UserError
from jaxd2l.experiment import run_cli
from jaxd2l.losses import squared_loss
from jaxd2l.models import linear
from jaxd2l.optim import sgd

EXPERIMENTS = (
    "linear_regression",
    "fashion_mnist",
    "softmax_regression",
    "losses",
    "perceptron",
    "xor",
    "activations",
    "mlp",
    "hparam_search",
    "benchmark",
)


def regression_run(lr=0.03, epochs=2, key=0):
    X, y = synthetic_regression(jax.random.key(0), num_examples=100)
    tx = sgd(lr)
    state = train.init_state(linear.init(jax.random.key(1), 2), tx)
    step = train.make_train_step(linear.apply, squared_loss, tx, jit=False)
    return state, train.make_epoch(step, 10), (X, y), jax.random.key(key), epochs


def test_fit_never_deletes_the_callers_params():
    state, run_epoch, data, key, epochs = regression_run()
    first = loop.fit(state, run_epoch, data, key, epochs)
    second = loop.fit(state, run_epoch, data, key, epochs)  # the same init, again
    np.testing.assert_array_equal(first.params["w"], second.params["w"])
    assert not state.params["w"].is_deleted()
    assert float(jnp.abs(state.params["w"]).sum()) < 0.1  # still the untouched init


def test_a_diverging_fit_stops_at_that_epoch_with_the_last_finite_loss():
    state, run_epoch, data, key, _ = regression_run(lr=30.0, epochs=50)
    seen = []
    with pytest.raises(loop.DivergedError) as e:
        loop.fit(state, run_epoch, data, key, 50, callbacks=[seen.append])
    err = e.value
    assert err.epoch == len(seen) == len(err.history) < 50
    assert not math.isfinite(seen[-1]["train_loss"])
    assert err.last_finite == seen[-2]["train_loss"] if len(seen) > 1 else err.last_finite is None
    assert f"epoch {err.epoch}" in str(err) and "lower the learning rate" in str(err)


def test_vmapped_trials_mark_the_diverged_ones_and_go_on():
    X, y = synthetic_regression(jax.random.key(0), num_examples=100)
    tx, states = train.with_learning_rates(linear.init(jax.random.key(1), 2), sgd, [0.03, 30.0])
    step = jax.vmap(train.make_train_step(linear.apply, squared_loss, tx, jit=False), (0, None))
    result = loop.fit(states, train.make_epoch(step, 10), (X, y), jax.random.key(2), 20)
    assert result.history[-1]["train_diverged"] == [False, True]
    assert result.history[-1]["train_loss"][0] < 1e-3


def test_a_diverged_experiment_exits_1_and_records_status_diverged(tmp_path, capsys):
    from experiments import linear_regression

    with pytest.raises(SystemExit) as e:
        run_cli(
            linear_regression.main,
            linear_regression.Config,
            ["--lr", "1000", "--out", str(tmp_path)],
        )
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "diverged at epoch 1" in err[0]
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["status"] == "diverged" and record["history"][0]["train_loss"] is None


def test_figures_of_non_finite_values_are_refused(tmp_path):
    x = np.array([-np.inf, 0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        plot.save_function_panels(x, {"relu": {"relu": np.zeros(5)}}, tmp_path / "a.png")
    with pytest.raises(ValueError, match="NaN or infinite values only"):
        plot.save_lines({"lr=3": [np.nan, np.inf]}, tmp_path / "b.png", xlabel="", ylabel="")
    plot.save_lines({"lr=3": [1.0, np.inf]}, tmp_path / "c.png", xlabel="", ylabel="")  # a gap


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_an_unusable_out_folder_is_one_line_and_exit_1(name, tmp_path, capsys):
    module = importlib.import_module(f"experiments.{name}")
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    for out in (a_file, a_file / "sub", "/proc/jaxd2l-cannot-write"):
        with pytest.raises(SystemExit) as e:
            run_cli(module.main, module.Config, ["--out", str(out)])
        assert e.value.code == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"cannot write to --out {out}" in err[0]
    assert a_file.read_text() == "keep me"


@pytest.mark.parametrize("seed", ["18446744073709551616", "-9223372036854775809", "1.5"])
def test_seeds_a_prng_key_cannot_take_are_flag_errors(seed, capsys):
    from experiments import xor

    with pytest.raises(SystemExit) as e:
        run_cli(xor.main, xor.Config, ["--seed", seed])
    assert e.value.code == 2 and "--seed" in capsys.readouterr().err


def test_non_finite_float_flags_are_refused(capsys):
    from experiments import activations, softmax_regression

    for module, argv in ((softmax_regression, ["--lr", "inf"]), (activations, ["--span", "nan"])):
        with pytest.raises(SystemExit) as e:
            run_cli(module.main, module.Config, argv)
        assert e.value.code == 2 and "must be" in capsys.readouterr().err


def decompressed_copy(folder, target):
    os.makedirs(target)
    for name in os.listdir(folder):
        with gzip.open(os.path.join(folder, name)) as src:
            with open(os.path.join(target, name.removesuffix(".gz")), "wb") as dst:
                shutil.copyfileobj(src, dst)


def test_a_folder_of_decompressed_idx_files_loads(fake_fashion_mnist, tmp_path):
    from jaxd2l.data import fashion_mnist as fm

    folder, arrays = fake_fashion_mnist
    decompressed_copy(folder, tmp_path / "raw")
    (images, labels), _ = fm.load_train_test(data_dir=str(tmp_path / "raw"))
    np.testing.assert_array_equal(images, arrays["train"][0])
    np.testing.assert_array_equal(labels, arrays["train"][1])


def test_a_truncated_decompressed_file_is_one_line_naming_it(
    fake_fashion_mnist, tmp_path, capsys, monkeypatch
):
    from experiments import fashion_mnist

    folder, _ = fake_fashion_mnist
    decompressed_copy(folder, tmp_path / "raw")
    path = tmp_path / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])
    monkeypatch.setenv("JAXD2L_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as e:
        run_cli(
            fashion_mnist.main,
            fashion_mnist.Config,
            ["--data-dir", str(tmp_path / "raw"), "--out", str(tmp_path / "out")],
        )
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "truncated" in err[0]


def _without_timings(record):
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in record["history"]]


def test_same_seed_gives_identical_results_and_another_seed_differs(fake_fashion_mnist, tmp_path):
    from experiments import mlp

    folder, _ = fake_fashion_mnist
    runs = [
        mlp.main(
            mlp.Config(
                hidden=(16,), epochs=2, batch_size=64, seed=seed, data_dir=folder,
                out=str(tmp_path / str(i)),
            )
        )
        for i, seed in enumerate((3, 3, 4))
    ]  # fmt: skip
    assert runs[0]["final"] == runs[1]["final"]
    assert _without_timings(runs[0]) == _without_timings(runs[1])
    assert runs[0]["final"] != runs[2]["final"]
    assert _without_timings(runs[0]) != _without_timings(runs[2])


def test_user_errors_are_user_errors():
    assert issubclass(loop.DivergedError, UserError)
