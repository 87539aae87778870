"""K-fold cross-validation as example weights over the same arrays (d2l 4.4.3.2): no
re-slicing, so every fold has the same shapes and all K train as one vmapped program (the
epoch multiplies its batch mask by the example weights; evaluation sums with them)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError


def kfold_weights(num_examples: int, num_folds: int) -> tuple[jax.Array, jax.Array]:
    """K-fold cross-validation as example weights over the same arrays (d2l 4.4.3.2): no
    re-slicing, so every fold has the same shapes and all K train as one vmapped program.

    Returns (train_weights, val_weights), each [num_folds, num_examples] float32.

    Row k of `train_weights` is 0 on fold k (its validation examples) and 1 elsewhere;
    `val_weights` is its complement. The folds are contiguous and every example is in
    exactly one validation fold. Pass a row as the third element of `fit`'s
    `train=(X, y, w)` and `test=(X, y, w)`, or vmap `make_train`'s `train` over the rows
    for all K folds in one program.

    Raises:
      ValueError: `num_folds` < 2, or more folds than examples.
    """
    checks.integer(num_examples, "num_examples", minimum=1)
    checks.integer(num_folds, "num_folds", minimum=2)
    if num_folds > num_examples:
        raise ArgumentError(
            f"num_folds {num_folds} is larger than the {num_examples} examples: every fold "
            "needs at least one"
        )
    fold_of = (jnp.arange(num_examples) * num_folds) // num_examples
    train = (fold_of[None, :] != jnp.arange(num_folds)[:, None]).astype(jnp.float32)
    return train, 1.0 - train


def fold_weights(num_examples: int, num_folds: int) -> jax.Array:
    """[num_folds, num_examples] training weights, 0 on each fold's validation examples
    (`kfold_weights`' first half)."""
    return kfold_weights(num_examples, num_folds)[0]


def check_rows(weights: jax.Array, num_examples: int, name: str = "weights") -> jax.Array:
    """Rows of example weights [K, N] checked before they are vmapped (inside, a row is
    traced and an all-zero one would only show as a NaN loss): each row one weight per
    example, finite, >= 0 and not all zero; a bad row refused by its index. Returns them as
    float32."""
    import numpy as np

    rows = jnp.asarray(weights, jnp.float32)
    if rows.ndim != 2 or rows.shape[1] != num_examples:
        raise ArgumentError(
            f"{name} must be rows of example weights [folds, {num_examples}], got shape "
            f"{tuple(rows.shape)}"
        )
    for i, row in enumerate(np.asarray(jax.device_get(rows))):
        try:
            checks.example_weights(row, num_examples, f"{name}[{i}]")
        except ArgumentError as e:
            raise ArgumentError(
                f"{e} (row {i} of {rows.shape[0]}, checked before the vmap)"
            ) from None
    return rows
