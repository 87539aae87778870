"""The model contract the engine trains: `Model(init, apply)`, a pair of pure functions.

`init(key) -> params` and `apply(params, X, *, key=None) -> output`, batched over the
leading axis. `key=None` is evaluation (deterministic); training passes each batch its own
key (dropout), and models that use no randomness ignore it. The engine owns this contract;
`jaxd2l.models` builds models on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax

Params = Any
Apply = Callable[..., jax.Array]  # apply(params, X, *, key=None) -> output


class Model(NamedTuple):
    """A model as its pair of pure functions (stax's `(init_fun, apply_fun)`, as a value)."""

    init: Callable[[jax.Array], Params]
    """`init(key) -> params`: a pytree of arrays."""
    apply: Apply
    """`apply(params, X, *, key=None) -> output`, batched over X's leading axis; `key=None`
    evaluates (no dropout)."""


def takes_key(apply: Callable) -> Callable:
    """`apply` as `apply(params, X, *, key=None)`: returned as it is when it takes `key`,
    else wrapped to drop the key, so a researcher's `lambda params, X: ...` trains too."""
    try:
        parameters = inspect.signature(apply).parameters
    except (TypeError, ValueError):  # builtins, some C callables: assume the contract
        return apply
    if "key" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return apply

    def apply_without_key(params, X, *, key=None):
        del key
        return apply(params, X)

    return apply_without_key
