import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression
from jaxd2l.losses import squared_loss
from jaxd2l.models import concise, linear
from jaxd2l.optim import sgd
from jaxd2l.train import Batch, init_state, make_train_step


def test_synthetic_shapes_and_relation(key):
    X, y = synthetic_regression(key, TRUE_W, TRUE_B, 1000, 0.0)
    assert X.shape == (1000, 2) and y.shape == (1000,)
    np.testing.assert_allclose(y, X @ jnp.asarray(TRUE_W) + TRUE_B, rtol=1e-5, atol=1e-5)


def test_synthetic_rejects_bad_input(key):
    with pytest.raises(ValueError, match="num_examples"):
        synthetic_regression(key, num_examples=0)
    with pytest.raises(ValueError, match="vector"):
        synthetic_regression(key, w=[[1.0]])


def test_model_shapes(key):
    params = linear.init(key, 5)
    assert params["w"].shape == (5,) and params["b"].shape == ()
    assert linear.apply(params, jnp.ones((7, 5))).shape == (7,)
    cparams, capply = concise.linear_regression(key, 5)
    assert capply(cparams, jnp.ones((7, 5))).shape == (7,)


def test_squared_loss_gradient_is_analytic(key):
    X, y = synthetic_regression(key, num_examples=32)
    params = linear.init(jax.random.key(1), 2)

    def mean_loss(p):
        return squared_loss(linear.apply(p, X), y).mean()

    grads = jax.grad(mean_loss)(params)
    r = linear.apply(params, X) - y  # d/dw mean((Xw+b-y)^2/2) = X^T r / n
    np.testing.assert_allclose(grads["w"], X.T @ r / 32, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads["b"], r.mean(), rtol=1e-5, atol=1e-6)


def test_scratch_sgd_matches_optax_sgd(key):
    params = linear.init(key, 3)
    grads = jax.tree.map(jnp.ones_like, params)
    ours, _ = sgd(0.1).update(grads, sgd(0.1).init(params))
    theirs, _ = optax.sgd(0.1).update(grads, optax.sgd(0.1).init(params))
    jax.tree.map(np.testing.assert_allclose, ours, theirs)


def test_jit_and_no_jit_steps_agree(key):
    X, y = synthetic_regression(key, num_examples=10)
    batch = Batch(X, y, jnp.arange(10) < 7)
    tx = sgd(0.03)

    def state():  # fresh buffers: the jitted step donates (deletes) the state it is given
        return init_state(linear.init(jax.random.key(1), 2), tx)

    out_jit = make_train_step(linear.apply, squared_loss, tx)(state(), batch)
    out_raw = make_train_step(linear.apply, squared_loss, tx, jit=False)(state(), batch)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), out_jit, out_raw)


def test_masked_step_equals_step_on_the_smaller_batch(key):
    X, y = synthetic_regression(key, num_examples=10)
    params = linear.init(jax.random.key(1), 2)
    tx = sgd(0.1)
    step = make_train_step(linear.apply, squared_loss, tx, jit=False)
    masked, sums = step(init_state(params, tx), Batch(X, y, jnp.arange(10) < 6))
    small, _ = step(init_state(params, tx), Batch(X[:6], y[:6], jnp.ones(6, bool)))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), masked, small)
    assert float(sums["count"]) == 6


def test_closed_form_is_exact_without_noise(key):
    X, y = synthetic_regression(key, TRUE_W, TRUE_B, 100, 0.0)
    params = linear.closed_form(X, y)
    np.testing.assert_allclose(params["w"], TRUE_W, atol=1e-4)
    np.testing.assert_allclose(params["b"], TRUE_B, atol=1e-4)
