"""Weight initialisation schemes (d2l 4.8, exercise 3 of 4.2): zeros, normal, Xavier, He.

A scheme draws a weight matrix [fan_in, fan_out]; biases always start at zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxd2l.checks.errors import ArgumentError

SCHEMES = ("normal", "zeros", "xavier", "he")


def weight(key: jax.Array, shape: tuple[int, int], scheme: str = "normal", sigma: float = 0.01):
    """normal: N(0, sigma^2) (d2l's randn * 0.01); zeros; xavier: N(0, 2 / (fan_in + fan_out))
    (Glorot); he: N(0, 2 / fan_in) (for ReLU)."""
    fan_in, fan_out = shape
    if scheme == "normal":
        std = sigma
    elif scheme == "zeros":
        return jnp.zeros(shape)
    elif scheme == "xavier":
        std = (2.0 / (fan_in + fan_out)) ** 0.5
    elif scheme == "he":
        std = (2.0 / fan_in) ** 0.5
    else:
        raise ArgumentError(f"unknown init scheme {scheme!r}: choose one of {', '.join(SCHEMES)}")
    return std * jax.random.normal(key, shape)


def flax_initializer(scheme: str = "normal", sigma: float = 0.01) -> Callable:
    """The same scheme as a flax kernel initializer `(key, shape, dtype) -> array`."""
    weight(jax.random.key(0), (1, 1), scheme, sigma)  # fail early on an unknown scheme

    def init(key, shape, dtype=jnp.float32):
        return weight(key, tuple(shape), scheme, sigma).astype(dtype)

    return init


def check_follows_key(first: Any, second: Any, name: str, fix: str) -> None:
    """Two initialisations from different keys: refuse parameters that do not follow the key
    (a module seeding itself), which would make every seed of a sweep the same run. Constant
    leaves (zeros, ones) are no evidence: only a random-looking leaf repeated counts."""
    pairs = list(zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True))
    varied = [bool(jnp.std(a) > 0) for a, _ in pairs if jnp.size(a) > 1]
    if any(varied) and all(bool(jnp.array_equal(a, b)) for a, b in pairs):
        raise ArgumentError(
            f"{name}'s parameters do not follow the key: init(key) gives the same values for "
            f"every key, so every seed would train the same run; {fix}"
        )
