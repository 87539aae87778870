"""d2l 4.5-4.6: weight decay (an L2 penalty on the weights) and dropout, as pure functions.

The penalty goes to `make_train_step(..., penalty=...)`, which adds it to the mean loss
(the objective the gradient is of, not the reported loss); the concise path is optax's
`add_decayed_weights` with `decay_mask(params)`: weights by shape, biases never (as in the
book's PyTorch code). `dropout` takes its key as an argument: a fresh mask per call.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError

Mask = Any  # a pytree of bools like the params, or a function params -> that pytree


def decay_mask(params: Any, mask: Mask | None = None) -> Any:
    """Which parameters weight decay shrinks: a pytree of bools like `params`.

    The rule, by shape, never by name: the leaves with `ndim >= 2` (weight matrices and
    kernels; biases, pReLU slopes and scales are vectors or scalars), as optax's examples
    do; where the params hold no matrix at all (linear regression's w [d], b []), the
    leaves with `ndim >= 1`. `mask` overrides the rule: the pytree itself, or a function
    of `params` returning it (optax's convention).

    Raises:
      TypeError: a leaf that is not an array (e.g. params kept in a SimpleNamespace, which
        JAX sees as one opaque leaf): use dicts, lists, tuples or NamedTuples.
      ValueError: the rule (or `mask`) selects nothing: there is nothing to decay.
    """
    leaves = jax.tree.leaves(params)
    for leaf in leaves:
        if not hasattr(leaf, "ndim"):
            raise ArgumentTypeError(
                f"params must be a pytree of arrays (dicts, lists, tuples, NamedTuples); it "
                f"holds a {type(leaf).__name__}, which JAX cannot look into: convert it, or "
                "pass mask"
            )
    if mask is not None:
        chosen = mask(params) if callable(mask) else mask
        if jax.tree.structure(chosen) != jax.tree.structure(params):
            raise ArgumentError("mask must have the structure of params (one bool per leaf)")
    else:
        lowest = 2 if any(leaf.ndim >= 2 for leaf in leaves) else 1
        chosen = jax.tree.map(lambda leaf: leaf.ndim >= lowest, params)
    if not any(bool(m) for m in jax.tree.leaves(chosen)):
        raise ArgumentError(
            "weight decay would decay nothing: no parameter is a matrix or vector (or mask "
            "selects none); pass mask to say which leaves to decay"
        )
    return chosen


def check_lambda(value: Any, name: str = "lambd") -> None:
    """A Python penalty strength must be a finite number >= 0 (a traced one, under vmap,
    is the caller's)."""
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
        value = float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not (value >= 0 and value < float("inf")):
            raise ArgumentError(f"{name} must be a finite number >= 0, got {value}")


def l2_penalty(lambd: float | jax.Array, mask: Mask | None = None) -> Callable[[Any], jax.Array]:
    """d2l 4.5.2: `penalty(params) = lambd / 2 * ||w||^2` over the weights `decay_mask`
    chooses (or `mask`); refuses params where it chooses nothing."""
    check_lambda(lambd)

    def penalty(params):
        chosen = decay_mask(params, mask)
        leaves = jax.tree.leaves(
            jax.tree.map(lambda p, w: jnp.sum(p**2) if w else jnp.zeros(()), params, chosen)
        )
        return 0.5 * lambd * sum(leaves)

    return penalty


def decayed_sgd(learning_rate: float, weight_decay: float, params: Any, mask: Mask | None = None):
    """The concise weight decay: optax's `add_decayed_weights` masked by `decay_mask` (or
    `mask`), then SGD; the same trajectory as `sgd` with `l2_penalty(weight_decay)`."""
    check_lambda(weight_decay, "weight_decay")
    return optax.chain(
        optax.add_decayed_weights(weight_decay, mask=decay_mask(params, mask)),
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
    checks.key(key, "key")
    if p == 1:
        return jnp.zeros_like(X)
    if p == 0:
        return X
    keep = jax.random.bernoulli(key, 1.0 - p, X.shape)
    return jnp.where(keep, X / (1.0 - p), 0.0)
