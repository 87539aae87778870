"""jaxd2l.core.epoch: the epoch as a value, its batch keys, and the exact evaluation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.core.epoch import Epoch, make_epoch
from jaxd2l.core.keys import batch_key, epoch_key
from jaxd2l.core.step import TrainState, init_state, make_train_step, summarize
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy, squared_loss
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd


def key_step(state, batch):
    """A step that trains nothing and reports its batch's key bits (per batch)."""
    bits = jax.random.key_data(batch.key)
    return state, {"count": batch.mask.sum(), "loss": 0.0, "k0": bits[0], "k1": bits[1]}


def test_an_epoch_is_a_value_and_calls_its_compiled_program():
    step = make_train_step(linear.apply, squared_loss, sgd(0.1))
    epoch = make_epoch(step, 10, drop_remainder=True)
    assert isinstance(epoch, Epoch) and epoch.unrolled is not None and epoch.parallel is None
    X, y = synthetic_regression(jax.random.key(0), num_examples=95)
    state = init_state(linear.init(jax.random.key(1), 2), sgd(0.1), jax.random.key(2))
    copy = jax.tree.map(jnp.copy, state)
    a, sums_a = epoch(state, X, y)
    b, sums_b = jax.jit(epoch.run)(copy, X, y)
    np.testing.assert_allclose(a.params["w"], b.params["w"], rtol=1e-6)
    assert float(sums_a["count"]) == float(sums_b["count"]) == 90  # the last 5 dropped


def test_every_batch_gets_its_own_key_from_epoch_and_index():
    epoch = make_epoch(key_step, 4, per_batch=True)
    X, y = jnp.zeros((10, 1)), jnp.zeros(10)
    key = jax.random.key(3)
    after, sums = epoch(TrainState(None, None, jax.random.key(3), jnp.int32(0)), X, y)
    got = list(zip(np.asarray(sums["k0"]).tolist(), np.asarray(sums["k1"]).tolist(), strict=True))
    first = epoch_key(key, 0)
    want = [tuple(int(v) for v in jax.random.key_data(batch_key(first, b))) for b in range(3)]
    assert got == want and len(set(got)) == 3
    _, other = epoch(after, X, y)  # the next epoch: (key, 1)
    assert not set(np.asarray(other["k0"]).tolist()) & set(np.asarray(sums["k0"]).tolist())


def test_evaluation_runs_the_model_without_a_key():
    seen = []

    def apply(params, X, *, key=None):
        seen.append(key)
        return X

    evaluate = make_evaluate(apply, cross_entropy, classification_metrics, batch_size=2)
    evaluate(None, jnp.ones((3, 2)), jnp.zeros(3, jnp.int32))
    assert seen and set(seen) == {None}  # traced once, shapes checked once: never a key


def test_a_model_without_a_key_argument_trains_too():
    X, y = synthetic_regression(jax.random.key(0), num_examples=40)

    def apply(params, X):  # a researcher's own model, no key
        return X @ params["w"] + params["b"]

    tx = sgd(0.03)
    epoch = make_epoch(make_train_step(apply, squared_loss, tx), 8)
    state, sums = epoch(init_state(linear.init(jax.random.key(1), 2), tx, jax.random.key(2)), X, y)
    assert float(sums["count"]) == 40 and np.isfinite(float(sums["loss"]))


def test_make_epoch_checks_its_arguments():
    step = make_train_step(linear.apply, squared_loss, sgd(0.1))
    with pytest.raises(TypeError, match="parallel must be a jaxd2l.core.parallel.DataParallel"):
        make_epoch(step, 8, parallel=2)
    with pytest.raises(TypeError, match="prepare must be a function"):
        make_epoch(step, 8, prepare="scale")
    with pytest.raises(TypeError, match="train_step must be a function"):
        make_epoch(None, 8)


def test_evaluation_is_exact_not_a_mean_of_batch_means():
    # 5 examples in batches of 2: batch means would weight the lone last example 1/3
    logits = jnp.array([[1.0, 0.0]] * 5)
    y = jnp.array([0, 0, 0, 0, 1])
    evaluate = make_evaluate(lambda p, X: X, cross_entropy, classification_metrics, batch_size=2)
    sums = evaluate(None, logits, y)
    means = summarize(sums)
    assert float(sums["count"]) == 5
    assert float(means["acc"]) == pytest.approx(0.8)
    np.testing.assert_allclose(means["loss"], cross_entropy(logits, y).mean(), rtol=1e-6)
