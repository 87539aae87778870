"""jaxd2l.tools.bench.precision: bfloat16 compute, float32 in and out, float32 gradients."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.models import mlp
from jaxd2l.tools.bench.precision import mixed


def test_mixed_computes_in_bfloat16_and_returns_float32_close_to_the_float32_model():
    params = mlp.init(jax.random.key(0), (16, 32, 4), "he")
    X = jax.random.normal(jax.random.key(1), (8, 16))
    seen = []

    def apply(p, X):
        seen.append(X.dtype)
        return mlp.apply(p, X)

    out = mixed(apply)(params, X)
    assert seen == [jnp.bfloat16] and out.dtype == jnp.float32
    np.testing.assert_allclose(out, mlp.apply(params, X), atol=0.1, rtol=0.05)
    grads = jax.grad(lambda p: mixed(mlp.apply)(p, X).sum())(params)
    assert all(g.dtype == jnp.float32 for g in jax.tree.leaves(grads))
    exact = jax.grad(lambda p: mlp.apply(p, X).sum())(params)
    np.testing.assert_allclose(grads[0]["W"], exact[0]["W"], atol=0.05, rtol=0.05)


def test_mixed_keeps_the_models_key_so_dropout_stays_on_in_training():
    # reproduction: mixed(apply) dropped the key, so dropout was silently off
    model = mlp.model((16, 32, 4), scheme="he", dropout=(0.5,))
    params = model.init(jax.random.key(0))
    X = jax.random.normal(jax.random.key(1), (8, 16))
    low = mixed(model.apply)
    train_a = low(params, X, key=jax.random.key(2))
    train_b = low(params, X, key=jax.random.key(3))
    evaluation = low(params, X)
    assert not np.allclose(train_a, train_b)  # the key reaches the dropout masks
    np.testing.assert_array_equal(evaluation, low(params, X, key=None))  # deterministic
    np.testing.assert_allclose(
        train_a, model.apply(params, X, key=jax.random.key(2)), atol=0.1, rtol=0.05
    )
