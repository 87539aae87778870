"""d2l 3.6: softmax regression from scratch: one affine map from flattened pixels to logits."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.step import Model


def init(
    key: jax.Array, num_inputs: int = 784, num_outputs: int = 10, sigma: float = 0.01
) -> dict[str, jax.Array]:
    """W ~ N(0, sigma^2) of shape [num_inputs, num_outputs], b = 0 (d2l 3.6.1)."""
    checks.key(key)
    checks.size(num_inputs, "num_inputs")
    checks.size(num_outputs, "num_outputs")
    return {
        "W": sigma * jax.random.normal(key, (num_inputs, num_outputs)),
        "b": jnp.zeros(num_outputs),
    }


def check_layer(layer: dict[str, jax.Array], fan_in: int, name: str) -> int:
    """An affine layer {"W": [fan_in, fan_out], "b": [fan_out]} for `fan_in` input features;
    returns fan_out. Shapes only: free under jit."""
    if not isinstance(layer, dict) or set(layer) != {"W", "b"}:
        got = sorted(layer) if isinstance(layer, dict) else type(layer).__name__
        raise ArgumentTypeError(f"{name} must be a dict with 'W' and 'b', got {got}")
    W, b = jnp.shape(layer["W"]), jnp.shape(layer["b"])
    if len(W) != 2 or W[0] != fan_in or b != (W[1],):
        raise ArgumentError(
            f"{name}: W {W} and b {b} do not fit inputs of {fan_in} features: expected "
            f"W [{fan_in}, K] and b [K]"
        )
    return W[1]


def apply(params: dict[str, jax.Array], X: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
    """Logits [B, K] for inputs [B, ...] (flattened); softmax lives in the loss. `key` is
    unused (no randomness)."""
    checks.features(X)
    check_layer(params, math.prod(X.shape[1:]), "params")
    return X.reshape(X.shape[0], -1) @ params["W"] + params["b"]


def model(num_inputs: int = 784, num_outputs: int = 10, sigma: float = 0.01) -> Model:
    """`Model(init(key), apply)` of d2l 3.6's softmax regression."""
    checks.size(num_inputs, "num_inputs")
    checks.size(num_outputs, "num_outputs")
    return Model(lambda key: init(key, num_inputs, num_outputs, sigma), apply)
