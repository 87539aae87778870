import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core import divergence, drivers
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.epoch import make_epoch, make_evaluate
from jaxd2l.core.fit import DivergedError, fit
from jaxd2l.core.optim import sgd
from jaxd2l.core.stack import with_learning_rates
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear, mlp, softmax
from jaxd2l.nn.losses import cross_entropy, squared_loss
from jaxd2l.nn.metrics import classification_metrics
from tests.helpers import classifier_fit, images


class Stop(Exception):
    pass


def regression_run(lr=0.03, epochs=2, key=0):
    X, y = synthetic_regression(jax.random.key(0), num_examples=100)
    tx = sgd(lr)
    state = init_state(linear.init(jax.random.key(1), 2), tx)
    step = make_train_step(linear.apply, squared_loss, tx)
    return state, make_epoch(step, 10), (X, y), jax.random.key(key), epochs


def dropout_regression():
    """An MLP with dropout on the regression data: its masks must resume exactly too."""
    model = mlp.model((2, 16, 1), scheme="he", dropout=(0.5,))
    return model.init(jax.random.key(1)), lambda p, X, *, key=None: model.apply(p, X, key=key)[:, 0]


@pytest.mark.parametrize("with_dropout", [False, True])
def test_an_interrupted_fit_resumes_to_the_same_numbers(with_dropout, tmp_path):
    X, y = synthetic_regression(jax.random.key(0), num_examples=200)
    tx = optax.sgd(0.01, momentum=0.9)  # optimizer state that must come back exactly
    params, apply = (
        dropout_regression() if with_dropout else (linear.init(jax.random.key(1), 2), linear.apply)
    )
    state = init_state(params, tx)
    run_epoch = make_epoch(make_train_step(apply, squared_loss, tx), 16)
    key, epochs = jax.random.key(2), 6
    whole = fit(state, run_epoch, (X, y), key, epochs)

    def stop_after_3(record):
        if record["epoch"] == 3:
            raise Stop

    ckpt = Checkpointer(str(tmp_path), flags={"run": 1})
    with pytest.raises(Stop):
        fit(state, run_epoch, (X, y), key, epochs, callbacks=[stop_after_3], checkpoint=ckpt)
    seen = []
    ckpt = Checkpointer(str(tmp_path), flags={"run": 1}, resume=True)
    resumed = fit(state, run_epoch, (X, y), key, epochs, callbacks=[seen.append], checkpoint=ckpt)
    assert [r["epoch"] for r in seen] == [1, 2, 3, 4, 5, 6]  # saved records replayed first
    for a, b in zip(jax.tree.leaves(whole.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in whole.history]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in resumed.history]


def test_fit_needs_evaluate_with_test_and_an_epoch_from_make_epoch():
    X, y = images(), np.zeros(32, np.int32)
    with pytest.raises(ValueError, match="evaluate and test go together"):
        classifier_fit(X, y, evaluate=lambda p, X, y: {})
    with pytest.raises(ValueError, match="evaluate and test go together"):
        classifier_fit(X, y, test=(X, y))
    tx = sgd(0.1)
    state = init_state(softmax.init(jax.random.key(0), 16, 10), tx)
    with pytest.raises(TypeError, match="run_epoch must be a function"):
        fit(state, "epoch", (X, y), jax.random.key(0), 1)
    with pytest.raises(TypeError, match="evaluate must be a function"):
        classifier_fit(X, y, test=(X, y), evaluate=3)


def test_fit_accepts_a_plain_evaluate_function():
    X, y = images(), (np.arange(32) % 10).astype(np.int32)
    evaluate = make_evaluate(softmax.apply, cross_entropy, classification_metrics)

    def plain(params, X, y):  # not jitted: fit compiles it
        return evaluate(params, X, y)

    result = classifier_fit(X, y, test=(X, y), evaluate=plain)
    assert 0 <= result.history[-1]["test_acc"] <= 1


def test_squared_loss_regression_data_still_trains():
    """Checks let correct regression data through (float targets, [B] outputs)."""
    X, y = synthetic_regression(jax.random.key(0), num_examples=64)
    tx = sgd(0.03)
    step = make_train_step(linear.apply, squared_loss, tx)
    result = fit(
        init_state(linear.init(jax.random.key(1), 2), tx),
        make_epoch(step, 8),
        (X, y),
        jax.random.key(2),
        2,
    )
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_fit_never_deletes_the_callers_params():
    state, run_epoch, data, key, epochs = regression_run()
    first = fit(state, run_epoch, data, key, epochs)
    second = fit(state, run_epoch, data, key, epochs)  # the same init, again
    np.testing.assert_array_equal(first.params["w"], second.params["w"])
    assert not state.params["w"].is_deleted()
    assert float(jnp.abs(state.params["w"]).sum()) < 0.1  # still the untouched init


def test_a_diverging_fit_stops_at_the_first_epoch_that_breaks_the_rule():
    state, run_epoch, data, key, _ = regression_run(lr=30.0, epochs=50)
    seen = []
    with pytest.raises(DivergedError) as e:
        fit(state, run_epoch, data, key, 50, callbacks=[seen.append])
    err = e.value
    assert err.epoch == len(seen) == len(err.history) < 50
    first = seen[0]["train_first_batch_loss"]  # the untrained model's loss, first batch
    assert seen[-1]["train_loss"] > divergence.FACTOR * first  # a finite explosion counts
    assert all(r["train_loss"] <= divergence.FACTOR * first for r in seen[:-1])
    assert err.last_finite == (seen[-2]["train_loss"] if len(seen) > 1 else None)
    assert f"epoch {err.epoch}" in str(err) and "lower the learning rate" in str(err)
    # with the rule off, only a loss that is not finite stops the run, later
    late = []
    with pytest.raises(DivergedError):
        fit(state, run_epoch, data, key, 50, callbacks=[late.append], divergence_factor=None)
    assert len(late) > len(seen) and not math.isfinite(late[-1]["train_loss"])


def test_every_driver_applies_the_same_rule():
    state, run_epoch, data, key, _ = regression_run(lr=30.0, epochs=50)
    with pytest.raises(DivergedError) as e:
        fit(state, run_epoch, data, key, 50)
    for driver in (drivers.fit_whole_run, drivers.fit_python_loop):
        with pytest.raises(DivergedError) as other:
            driver(state, run_epoch, data, key, 30)
        assert other.value.epoch == e.value.epoch


def test_vmapped_trials_mark_the_diverged_ones_and_go_on():
    X, y = synthetic_regression(jax.random.key(0), num_examples=100)
    tx, states = with_learning_rates(linear.init(jax.random.key(1), 2), sgd, [0.03, 30.0])
    step = jax.vmap(make_train_step(linear.apply, squared_loss, tx), (0, None))
    result = fit(states, make_epoch(step, 10), (X, y), jax.random.key(2), 20)
    assert result.history[-1]["train_diverged"] == [False, True]
    assert result.history[-1]["train_loss"][0] < 1e-3
