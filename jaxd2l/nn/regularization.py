"""d2l 4.5-4.6: weight decay (an L2 penalty on the weights) and dropout, as pure functions.

The penalty goes to `make_train_step(..., penalty=...)`, which adds it to the mean loss
(the objective the gradient is of, not the reported loss); the concise path is optax's
`add_decayed_weights` with `weights_mask(params)`, so biases are never decayed (as in the
book's PyTorch code). `dropout` takes its key as an argument: a fresh mask per call.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxd2l.core.errors import ArgumentError, ArgumentTypeError

WEIGHT_NAMES = ("w", "W", "kernel")  # scratch linear / scratch layers / flax Dense


def _is_weight(path) -> bool:
    last = path[-1] if path else None
    name = getattr(last, "key", getattr(last, "name", None))
    return name in WEIGHT_NAMES


def weights_mask(params: Any) -> Any:
    """A pytree of bools like `params`: True for weight matrices and vectors, False for
    biases (by name: `w`, `W`, flax's `kernel`)."""
    return jax.tree_util.tree_map_with_path(lambda path, _: _is_weight(path), params)


def check_lambda(value: Any, name: str = "lambd") -> None:
    """A Python penalty strength must be a finite number >= 0 (a traced one, under vmap,
    is the caller's)."""
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
        value = float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not (value >= 0 and value < float("inf")):
            raise ArgumentError(f"{name} must be a finite number >= 0, got {value}")


def l2_penalty(lambd: float | jax.Array) -> Callable[[Any], jax.Array]:
    """d2l 4.5.2: `penalty(params) = lambd / 2 * ||w||^2` over the weights only."""
    check_lambda(lambd)

    def penalty(params):
        leaves = jax.tree.leaves(
            jax.tree.map(
                lambda p, is_w: jnp.sum(p**2) if is_w else jnp.zeros(()),
                params,
                weights_mask(params),
            )
        )
        return 0.5 * lambd * sum(leaves)

    return penalty


def decayed_sgd(learning_rate: float, weight_decay: float, params: Any):
    """The concise weight decay: optax's `add_decayed_weights` masked to the weights, then
    SGD; the same trajectory as `sgd` with `l2_penalty(weight_decay)`."""
    check_lambda(weight_decay, "weight_decay")
    return optax.chain(
        optax.add_decayed_weights(weight_decay, mask=weights_mask(params)),
        optax.sgd(learning_rate),
    )


def check_rate(p: Any, name: str = "p") -> None:
    """A dropout rate must be a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number in [0, 1], got {type(p).__name__} {p!r}")
    if not 0 <= p <= 1:
        raise ArgumentError(f"{name} (a dropout rate) must be in [0, 1], got {p}")


def dropout(X: jax.Array, p: float, key: jax.Array) -> jax.Array:
    """d2l 4.6.4: keep each unit with probability 1 - p and scale it by 1 / (1 - p), so the
    expectation is X; p = 1 drops everything (no division by zero), p = 0 is X."""
    check_rate(p)
    if p == 1:
        return jnp.zeros_like(X)
    if p == 0:
        return X
    keep = jax.random.bernoulli(key, 1.0 - p, X.shape)
    return jnp.where(keep, X / (1.0 - p), 0.0)
