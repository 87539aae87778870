"""The three drivers (Python loop over a jitted step, scanned epochs, the whole run as one
program) train to the same parameters and report the same history."""

import jax
import numpy as np
import pytest

from jaxd2l import drivers, loop, train
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.epoch import make_epoch, make_evaluate
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import classification_metrics
from jaxd2l.models import mlp
from jaxd2l.optim import sgd


def setup(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    tx = sgd(0.1)
    state = train.init_state(mlp.init(jax.random.key(0), (784, 16, 10)), tx)
    step = train.make_train_step(mlp.apply, cross_entropy, tx, classification_metrics)
    run_epoch = make_epoch(step, 64, prepare=fm.scale_images)  # 300 = 4 x 64 + 44 padded
    evaluate = make_evaluate(
        mlp.apply, cross_entropy, classification_metrics, prepare=fm.scale_images
    )
    return state, run_epoch, arrays["train"], arrays["test"], evaluate


def test_three_drivers_reach_the_same_parameters(fake_fashion_mnist):
    state, run_epoch, data, test, evaluate = setup(fake_fashion_mnist)
    key = jax.random.key(1)
    scanned = loop.fit(state, run_epoch, data, key, 3, evaluate=evaluate, test=test)
    whole = drivers.fit_whole_run(state, run_epoch, data, key, 3, evaluate=evaluate, test=test)
    python = drivers.fit_python_loop(state, run_epoch, data, key, 3)
    for other in (whole, python):
        pairs = zip(jax.tree.leaves(scanned.params), jax.tree.leaves(other.params), strict=True)
        for a, b in pairs:
            np.testing.assert_allclose(a, b, atol=1e-6)
        for r, s in zip(scanned.history, other.history, strict=True):
            assert r["train_loss"] == pytest.approx(s["train_loss"], rel=1e-5)
            assert r["train_acc"] == pytest.approx(s["train_acc"], abs=1e-6)
    for r, s in zip(scanned.history, whole.history, strict=True):
        assert r["test_acc"] == pytest.approx(s["test_acc"], abs=1e-6)
    assert whole.timing["compile_s"] > 0 and whole.timing["run_s"] > 0


def test_drivers_check_their_arguments(fake_fashion_mnist):
    state, run_epoch, data, test, evaluate = setup(fake_fashion_mnist)
    with pytest.raises(ValueError, match="evaluate and test go together"):
        drivers.fit_whole_run(state, run_epoch, data, jax.random.key(0), 1, evaluate=evaluate)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        drivers.fit_python_loop(state, run_epoch, data, jax.random.key(0), 2.0)
