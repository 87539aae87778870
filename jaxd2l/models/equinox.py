"""An Equinox module as a `Model(init, apply)`: its inexact arrays as the params
(`eqx.partition`), the key as its dropout stream, training on exactly when a key is given.

    model = equinox.pure(lambda key: eqx.nn.MLP(784, 10, 256, 1, key=key), (784,))

`make_module(key)` builds the module; Equinox modules map one example, so `apply` vmaps
the module over the batch, each example with its own key (`jax.random.split(key, B)`),
and sets `inference` through `eqx.nn.inference_mode` (True exactly when no key is given).
Every driver, `make_train` under `vmap`, checkpoints, weight decay's mask and `jax.export`
see the params as a pytree of arrays (the module's structure, its static parts held apart).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.step import Model
from jaxd2l.models.init import check_follows_key


def _dropouts(module: Any) -> list[eqx.nn.Dropout]:
    leaves = jax.tree.leaves(module, is_leaf=lambda x: isinstance(x, eqx.nn.Dropout))
    return [m for m in leaves if isinstance(m, eqx.nn.Dropout) and m.p > 0]


def pure(make_module: Callable[[jax.Array], Any], input_shape: Sequence[int]) -> Model:
    """`Model(init, apply)` for the Equinox module `make_module(key)` makes, mapping one
    example of `input_shape`.

    What the `Model` contract cannot hold is refused here, by observation: state kept
    outside the module's arrays (`eqx.nn.BatchNorm`'s `StateIndex`: evaluation would use
    its initial values) and parameters that do not follow the key (every seed the same
    run). Whether the switch reaches the dropout is decided at `init`: with a key every
    `eqx.nn.Dropout` with `p > 0` must be out of inference mode and the output must follow
    the key; without one, inference mode and a deterministic output.

    Raises:
      ValueError: such state, parameters that ignore the key, or (from `init`) dropout the
        switch does not reach.
    """
    checks.callable_(make_module, "make_module")
    if isinstance(make_module, eqx.Module):
        raise ArgumentTypeError(
            "make_module must be a function that builds the module from a key (lambda key: "
            f"eqx.nn.MLP(..., key=key)), got a {type(make_module).__name__} instance"
        )
    _check_contract(make_module, tuple(input_shape))
    shape = tuple(input_shape)
    _, static = eqx.partition(eqx.filter_eval_shape(make_module, jax.random.key(0)), eqx.is_array)

    def module_of(params, training: bool):
        return eqx.nn.inference_mode(eqx.combine(params, static), value=not training)

    def apply(params, X, *, key=None):
        module = module_of(params, key is not None)
        if key is None:
            return jax.vmap(lambda x: module(x))(X)
        keys = jax.random.split(key, X.shape[0])
        return jax.vmap(lambda x, k: module(x, key=k))(X, keys)

    def init(key):
        checks.key(key)
        module = make_module(key)
        params, _ = eqx.partition(module, eqx.is_array)
        if not isinstance(key, jax.core.Tracer):
            _observe(module_of, apply, params, shape, type(module).__name__)
        return params

    return Model(init, apply)


def _check_contract(make_module: Callable[[jax.Array], Any], shape: tuple) -> None:
    """Refuse a module with state of its own (`eqx.nn.State`), that cannot take one example
    alone, or whose arrays do not follow the key (two modules built from different keys)."""
    made = [make_module(jax.random.key(k)) for k in (0, 1)]
    name = type(made[0]).__name__
    if not isinstance(made[0], eqx.Module):
        hint = ""
        if isinstance(made[0], tuple):
            hint = ": eqx.nn.make_with_state's (module, state) holds state a Model cannot"
        raise ArgumentTypeError(f"make_module must return an equinox.Module, got {name}{hint}")
    is_state = lambda x: isinstance(x, eqx.nn.StateIndex)
    if any(is_state(x) for x in jax.tree.leaves(made[0], is_leaf=is_state)):
        raise ArgumentError(
            f"{name} holds state that changes outside the gradient (eqx.nn.StateIndex, e.g. "
            "eqx.nn.BatchNorm's running statistics): a Model(init, apply) carries parameters "
            "only; use eqx.nn.LayerNorm (or no normalisation)"
        )
    try:
        eqx.nn.inference_mode(made[1])(jnp.ones(shape))
    except TypeError as e:
        raise ArgumentTypeError(
            f"{name}.__call__ must take one example alone (and `key=` for dropout), as apply "
            f"calls it: module(x) failed ({e}); give its other arguments defaults"
        ) from None
    first, second = (eqx.filter(m, eqx.is_array) for m in made)
    fix = "build its layers from the key make_module receives (split it per layer)"
    check_follows_key(first, second, name, fix)


def _observe(module_of, apply, params, shape, name: str) -> None:
    """Refuse dropout that inference mode or the key does not switch."""
    drew = [not d.inference for d in _dropouts(module_of(params, True))]
    still = [not d.inference for d in _dropouts(module_of(params, False))]
    if not drew and not still:
        return
    example = jnp.linspace(0.5, 1.5, 2 * int(jnp.prod(jnp.asarray(shape)))).reshape(2, *shape)
    try:
        outputs = [apply(params, example, key=jax.random.key(k)) for k in (1, 2)]
        follows = bool(jnp.any(outputs[0] != outputs[1]))
    except (TypeError, RuntimeError):  # the module's __call__ takes no key
        follows = False
    if any(still) or not all(drew) or not follows:
        raise ArgumentError(
            f"{name}'s dropout is not reached by inference mode and the key: its __call__ must "
            "take `key=` and pass it to each eqx.nn.Dropout, whose `inference` stays unset"
        )
