"""d2l 4.4's polynomial data: y = 5 + 1.2x - 3.4 x^2/2! + 5.6 x^3/3! + noise, and the
features x^i / i! up to degree 20 (so the higher terms stay small)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxd2l import checks

TRUE_W = (5.0, 1.2, -3.4, 5.6)  # the weights of x^0/0!, x^1/1!, x^2/2!, x^3/3!
MAX_DEGREE = 20


def features(x: jax.Array, max_degree: int = MAX_DEGREE) -> jax.Array:
    """[n] -> [n, max_degree]: column i is x^i / i! (column 0 the constant 1)."""
    powers = x[:, None] ** jnp.arange(max_degree)
    return powers / jnp.asarray([math.factorial(i) for i in range(max_degree)], jnp.float32)


def polynomial_data(
    key: jax.Array,
    num_train: int = 100,
    num_test: int = 100,
    max_degree: int = MAX_DEGREE,
    noise: float = 0.1,
) -> tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """((X_train, y_train), (X_test, y_test)): x ~ N(0, 1), X the polynomial features of
    x up to `max_degree`, y from `TRUE_W` on the first four plus N(0, noise^2)."""
    checks.key(key)
    checks.integer(num_train, "num_train", minimum=1)
    checks.integer(num_test, "num_test", minimum=1)
    checks.integer(max_degree, "max_degree", minimum=len(TRUE_W))
    x_key, noise_key = jax.random.split(key)
    n = num_train + num_test
    X = features(jax.random.normal(x_key, (n,)), max_degree)
    w = jnp.zeros(max_degree).at[: len(TRUE_W)].set(jnp.asarray(TRUE_W))
    y = X @ w + noise * jax.random.normal(noise_key, (n,))
    return (X[:num_train], y[:num_train]), (X[num_train:], y[num_train:])


def degree_mask(degree: int | jax.Array, max_degree: int = MAX_DEGREE) -> jax.Array:
    """[max_degree] floats: 1 for the first `degree` features, 0 after (a traced degree
    works too, so every degree vmaps over the same shapes)."""
    return (jnp.arange(max_degree) < degree).astype(jnp.float32)
