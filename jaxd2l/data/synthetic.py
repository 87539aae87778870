"""d2l 3.3: synthetic linear-regression data, y = Xw + b + noise, as a pure function of a key."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jaxd2l import checks

TRUE_W = (2.0, -3.4)
TRUE_B = 4.2


def synthetic_regression(
    key: jax.Array,
    w: Sequence[float] | jax.Array = TRUE_W,
    b: float = TRUE_B,
    num_examples: int = 1000,
    noise: float = 0.01,
) -> tuple[jax.Array, jax.Array]:
    """X ~ N(0, 1) of shape [n, len(w)] and y = Xw + b + N(0, noise^2) of shape [n]."""
    checks.key(key)
    checks.integer(num_examples, "num_examples", minimum=1)
    w = jnp.asarray(w, jnp.float32)
    if w.ndim != 1:
        raise ValueError(f"w must be a vector, got shape {w.shape}")
    x_key, noise_key = jax.random.split(key)
    X = jax.random.normal(x_key, (num_examples, w.shape[0]))
    y = X @ w + b + noise * jax.random.normal(noise_key, (num_examples,))
    return X, y
