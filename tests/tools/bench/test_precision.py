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
