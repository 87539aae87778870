import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.step import Batch, init_state, make_train_step
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear, softmax
from jaxd2l.nn.losses import cross_entropy, squared_loss
from jaxd2l.nn.optim import sgd
from tests.helpers import assert_trees_equal


def images(n=32):
    return np.random.default_rng(0).random((n, 4, 4, 1), dtype=np.float32)


def test_a_loss_or_metric_returning_a_scalar_is_refused():
    X, y = images(), np.zeros(32, np.int32)
    tx = sgd(0.1)
    params = softmax.init(jax.random.key(0), 16, 10)

    def mean_loss(logits, y):
        return cross_entropy(logits, y).mean()

    for loss, metrics, what in (
        (mean_loss, None, "the loss '.*mean_loss'"),
        (cross_entropy, lambda o, y: {"acc": (o.argmax(-1) == y).mean()}, "the metric 'acc' of"),
    ):
        step = make_train_step(softmax.apply, loss, tx, metrics)
        with pytest.raises(ValueError, match=f"{what}.* must return one value per example"):
            fit(
                init_state(params, tx, jax.random.key(0)),
                make_epoch(step, 8),
                (X, y),
                1,
            )


def test_squared_loss_gradient_is_analytic(key):
    X, y = synthetic_regression(key, num_examples=32)
    params = linear.init(jax.random.key(1), 2)

    def mean_loss(p):
        return squared_loss(linear.apply(p, X), y).mean()

    grads = jax.grad(mean_loss)(params)
    r = linear.apply(params, X) - y  # d/dw mean((Xw+b-y)^2/2) = X^T r / n
    np.testing.assert_allclose(grads["w"], X.T @ r / 32, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads["b"], r.mean(), rtol=1e-5, atol=1e-6)


def test_jit_and_no_jit_steps_agree(key):
    X, y = synthetic_regression(key, num_examples=10)
    batch = Batch(X, y, jnp.arange(10) < 7)
    tx = sgd(0.03)

    def state():  # fresh buffers: the jitted step donates (deletes) the state it is given
        return init_state(linear.init(jax.random.key(1), 2), tx, jax.random.key(0))

    step = make_train_step(linear.apply, squared_loss, tx)
    out_jit = jax.jit(step)(state(), batch)
    out_raw = step(state(), batch)
    with jax.disable_jit():  # the same step run op by op, not compiled
        out_eager = step(state(), batch)
    assert float(out_raw[1]["loss"]) > 0  # the step computed something to compare
    for other in (out_raw, out_eager):
        assert_trees_equal(out_jit, other, rtol=1e-6)
    moved = jax.tree.map(
        lambda a, b: float(jnp.abs(a - b).max()), out_jit[0].params, state().params
    )
    assert max(jax.tree.leaves(moved)) > 0  # the update changed the parameters


def test_masked_step_equals_step_on_the_smaller_batch(key):
    X, y = synthetic_regression(key, num_examples=10)
    params = linear.init(jax.random.key(1), 2)
    tx = sgd(0.1)
    step = make_train_step(linear.apply, squared_loss, tx)
    masked, sums = step(init_state(params, tx, jax.random.key(0)), Batch(X, y, jnp.arange(10) < 6))
    small, _ = step(
        init_state(params, tx, jax.random.key(0)), Batch(X[:6], y[:6], jnp.ones(6, bool))
    )
    assert_trees_equal(masked, small, rtol=1e-6)
    assert float(sums["count"]) == 6
