import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core import divergence, drivers
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.divergence import DivergedError
from jaxd2l.core.epoch import make_epoch, make_evaluate
from jaxd2l.core.fit import fit
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


def test_an_epoch_is_saved_before_its_callbacks_so_a_raising_callback_loses_nothing(tmp_path):
    state, run_epoch, train, key, _ = regression_run(epochs=4)

    def stop_after_2(record):
        if record["epoch"] == 2:
            raise Stop

    with pytest.raises(Stop), Checkpointer(str(tmp_path), flags={}) as ckpt:
        fit(state, run_epoch, train, key, 4, callbacks=[stop_after_2], checkpoint=ckpt)
    with Checkpointer(str(tmp_path), flags={}, resume=True) as ckpt:
        resumed = fit(state, run_epoch, train, key, 4, checkpoint=ckpt)
    assert len(resumed.timing["epoch_s"]) == 2  # epochs 3 and 4 only: epoch 2 was kept


def test_stop_training_ends_the_run_cleanly_with_the_epoch_kept(tmp_path):
    from jaxd2l import StopTraining

    state, run_epoch, train, key, _ = regression_run(epochs=4)

    def stop_after_2(record):
        if record["epoch"] == 2:
            raise StopTraining

    two = fit(state, run_epoch, train, key, 2)
    with Checkpointer(str(tmp_path), flags={}) as ckpt:
        stopped = fit(state, run_epoch, train, key, 4, callbacks=[stop_after_2], checkpoint=ckpt)
    assert len(stopped.history) == 2 and stopped.timing["stopped_early"]
    for a, b in zip(jax.tree.leaves(two.params), jax.tree.leaves(stopped.params), strict=True):
        np.testing.assert_array_equal(a, b)
    seen = []
    with Checkpointer(str(tmp_path), flags={}, resume=True) as ckpt:
        resumed = fit(
            state, run_epoch, train, key, 4, callbacks=[seen.append], checkpoint=ckpt,
            replay_history=False,
        )  # fmt: skip
    assert [r["epoch"] for r in seen] == [3, 4]  # no replay of the restored epochs
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]


def test_example_weights_of_ones_change_nothing_and_k_folds_train_as_one_program():
    from jaxd2l import kfold_weights, make_train, summarize

    state, run_epoch, (X, y), key, _ = regression_run(epochs=2)
    plain = fit(state, run_epoch, (X, y), key, 2)
    ones = fit(state, run_epoch, (X, y), key, 2, weights=np.ones(100))
    for a, b in zip(jax.tree.leaves(plain.params), jax.tree.leaves(ones.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    train_w, val_w = kfold_weights(100, 5)
    assert train_w.shape == (5, 100) and np.all(np.asarray(train_w + val_w) == 1)
    assert np.all(np.asarray(val_w).sum(axis=0) == 1)  # every example validates once
    evaluate = make_evaluate(linear.apply, squared_loss)
    tx = sgd(0.03)
    train = make_train(lambda k: linear.init(jax.random.key(1), 2), tx, run_epoch, 2, evaluate)
    folds = jax.jit(jax.vmap(train, in_axes=(None, None, None, None, 0, 0)))
    states, (_, test_sums) = folds(jax.random.key(7), X, y, (X, y), train_w, val_w)
    run_key = d2l_train_key(jax.random.key(7))
    for k in (0, 3):
        one = fit(
            init_state(linear.init(jax.random.key(1), 2), tx), run_epoch, (X, y), run_key, 2,
            evaluate=evaluate, test=(X, y), weights=train_w[k], test_weights=val_w[k],
        )  # fmt: skip
        for a, b in zip(jax.tree.leaves(one.params), jax.tree.leaves(states.params), strict=True):
            np.testing.assert_allclose(a, b[k], rtol=1e-5, atol=1e-6)
        val_loss = summarize({n: v[k, -1] for n, v in test_sums.items()})["loss"]
        np.testing.assert_allclose(one.history[-1]["test_loss"], val_loss, rtol=1e-5)
    with pytest.raises(ValueError, match=r"weights must have shape \(100,\)"):
        fit(state, run_epoch, (X, y), key, 1, weights=np.ones(7))


def d2l_train_key(root):
    from jaxd2l import run_keys

    return run_keys(root).train


def test_fit_under_jit_says_it_is_a_host_loop_and_points_at_make_train():
    state, run_epoch, train, key, _ = regression_run()
    with pytest.raises(TypeError, match="make_train"):
        jax.jit(lambda s: fit(s, run_epoch, train, key, 1).params)(state)


def test_diverged_error_keeps_the_loss_and_quotes_the_runs_own_factor():
    state, run_epoch, train, key, _ = regression_run(lr=0.3)  # a loss far above 2x the first
    with pytest.raises(DivergedError) as e:
        fit(state, run_epoch, train, key, 3, divergence_factor=1e-6)
    assert e.value.factor == 1e-6 and "at most 1e-06x" in str(e.value)
    assert e.value.loss == e.value.history[-1]["train_loss"] and math.isfinite(e.value.loss)
