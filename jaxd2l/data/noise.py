"""d2l-en 5.5's label noise: the setting where early stopping matters."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError


def noisy_labels(key: jax.Array, y: jax.Array, fraction: float, num_classes: int = 10):
    """y with `fraction` of its entries (chosen at random, exactly round(fraction * n) of
    them) replaced by labels drawn uniformly from the other classes: every chosen label is
    wrong. Returns (noisy y, mask of the replaced entries)."""
    checks.key(key)
    if not 0 <= fraction <= 1:
        raise ArgumentError(f"fraction (of noisy labels) must be in [0, 1], got {fraction}")
    n = y.shape[0]
    pick_key, shift_key = jax.random.split(key)
    chosen = jax.random.permutation(pick_key, n) < round(fraction * n)
    shift = jax.random.randint(shift_key, (n,), 1, num_classes)  # never 0: another class
    noisy = jnp.where(chosen, (y + shift) % num_classes, y).astype(y.dtype)
    return noisy, chosen
