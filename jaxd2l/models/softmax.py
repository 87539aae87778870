"""d2l 3.6: softmax regression from scratch: one affine map from flattened pixels to logits."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def init(
    key: jax.Array, num_inputs: int = 784, num_outputs: int = 10, sigma: float = 0.01
) -> dict[str, jax.Array]:
    """W ~ N(0, sigma^2) of shape [num_inputs, num_outputs], b = 0 (d2l 3.6.1)."""
    return {
        "W": sigma * jax.random.normal(key, (num_inputs, num_outputs)),
        "b": jnp.zeros(num_outputs),
    }


def apply(params: dict[str, jax.Array], X: jax.Array) -> jax.Array:
    """Logits [B, K] for inputs [B, ...] (flattened); softmax lives in the loss."""
    return X.reshape(X.shape[0], -1) @ params["W"] + params["b"]
