"""d2l 3.3: synthetic linear-regression data, y = Xw + b + noise, as a pure function of a key."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError

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
        raise ArgumentError(f"w must be a vector, got shape {w.shape}")
    x_key, noise_key = jax.random.split(key)
    X = jax.random.normal(x_key, (num_examples, w.shape[0]))
    y = X @ w + b + noise * jax.random.normal(noise_key, (num_examples,))
    return X, y


def high_dimensional_regression(
    key: jax.Array,
    num_train: int = 20,
    num_test: int = 100,
    num_inputs: int = 200,
    noise: float = 0.01,
) -> tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """d2l 4.5.1: y = 0.05 + sum_i 0.01 x_i + N(0, noise^2), x ~ N(0, I) in `num_inputs`
    dimensions, with few training examples so that an unpenalised fit overfits. Returns
    ((X_train, y_train), (X_test, y_test))."""
    checks.integer(num_train, "num_train", minimum=1)
    checks.integer(num_test, "num_test", minimum=1)
    checks.integer(num_inputs, "num_inputs", minimum=1)
    train_key, test_key = jax.random.split(key)
    w = jnp.full(num_inputs, 0.01)
    train = synthetic_regression(train_key, w, 0.05, num_train, noise)
    test = synthetic_regression(test_key, w, 0.05, num_test, noise)
    return train, test
