"""A Flax NNX module as a `Model(init, apply)`: the module's parameters as a plain pytree,
the key as its dropout stream, training on exactly when a key is given.

    model = nnx_model.pure(lambda rngs: MyMLP(rngs=rngs), (784,))

`make_module(rngs)` builds the module from an `nnx.Rngs` with a "params" and a "dropout"
stream (flax's examples: `nnx.Linear(..., rngs=rngs)`, `nnx.Dropout(rate, rngs=rngs)`). The
module maps a batch, as flax's modules do. `init(key)` returns `nnx.to_pure_dict` of its
`nnx.Param` state, so every driver, `make_train` under `vmap`, checkpoints, weight decay's
mask (by shape) and `jax.export` see nested dicts of arrays. `apply(params, X, *, key=None)`
merges them back, calls `eval()` (no key) or `train()` with every dropout stream seeded
from `key` (one stream per layer, `fold_in(key, i)`), and runs the module; nothing leaks
between calls (pure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen, nnx

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.step import Model
from jaxd2l.models.init import check_follows_key

LINEN = ": a Linen module (flax.linen) becomes a Model through jaxd2l.models.concise"


def _iter(module: nnx.Module):
    """Every submodule with its path (`nnx.iter_modules`, or the method before flax 0.12)."""
    return nnx.iter_modules(module) if hasattr(nnx, "iter_modules") else module.iter_modules()


def _dropouts(module: nnx.Module) -> list[nnx.Dropout]:
    return [m for _, m in _iter(module) if isinstance(m, nnx.Dropout) and m.rate > 0]


def _seeded(rest: Any, key: jax.Array | None) -> Any:
    """A copy of the module's non-parameter state (made in the current trace) with every
    RNG stream's key set to fold_in(key, i) and its count to 0."""
    copy = jax.tree.map(lambda x: x, rest)
    if key is None:
        return copy
    pure = nnx.to_pure_dict(copy)
    i = 0

    def seed(path, value):
        nonlocal i
        name = getattr(path[-1], "key", None)
        if name == "key" and jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key):
            i += 1
            return jax.random.fold_in(key, i)
        if name == "count":
            return jnp.zeros_like(value)
        return value

    nnx.replace_by_pure_dict(copy, jax.tree_util.tree_map_with_path(seed, pure))
    return copy


def pure(make_module: Callable[[nnx.Rngs], nnx.Module], input_shape: Sequence[int]) -> Model:
    """`Model(init, apply)` for the NNX module `make_module(rngs)` makes, taking inputs of
    `input_shape` (one example, no batch axis).

    What the `Model` contract cannot hold is refused here, by observation: state that
    changes outside the gradient (`nnx.BatchNorm`'s running statistics, any variable that
    is neither a parameter nor an RNG stream: evaluation would use its initial values), and
    parameters that do not follow the key (a module that makes its own `nnx.Rngs(0)`: every
    seed the same run). Whether the switch reaches the dropout is decided at `init`: every
    `nnx.Dropout` with a rate above 0 must draw units after `train()` and none after
    `eval()`, and the training output must follow the key.

    Raises:
      ValueError: such state, parameters that ignore the key, or (from `init`) dropout the
        switch does not reach.
    """
    checks.callable_(make_module, "make_module")
    if isinstance(make_module, (nnx.Module, linen.Module)):
        linen_hint = "" if isinstance(make_module, nnx.Module) else LINEN
        raise ArgumentTypeError(
            "make_module must be a function that builds the module from an nnx.Rngs (lambda "
            f"rngs: MyModule(rngs=rngs)), got a {type(make_module).__name__} instance" + linen_hint
        )
    example = jnp.ones((2, *input_shape)) * jnp.linspace(
        0.5, 1.5, int(jnp.prod(jnp.asarray(input_shape))) or 1
    ).reshape(1, *input_shape)
    _check_contract(make_module, example)
    graph, params0, rest = nnx.split(make_module(nnx.Rngs(params=0, dropout=0)), nnx.Param, ...)

    def module_of(params, key):
        state = jax.tree.map(lambda x: x, params0)
        nnx.replace_by_pure_dict(state, params)
        module = nnx.merge(graph, state, _seeded(rest, key))
        module.train() if key is not None else module.eval()
        return module

    def apply(params, X, *, key=None):
        return module_of(params, key)(X)

    def init(key):
        checks.key(key)
        made = make_module(nnx.Rngs(params=key, dropout=key))
        params = nnx.to_pure_dict(nnx.split(made, nnx.Param, ...)[1])
        if not isinstance(key, jax.core.Tracer):
            _observe(module_of, apply, params, example, type(made).__name__)
        return params

    return Model(init, apply)


def _check_contract(make_module: Callable[[nnx.Rngs], nnx.Module], example) -> None:
    """Refuse a module whose state a `Model(init, apply)` cannot carry, that cannot take a
    batch alone, or whose parameters do not follow the key (two modules compared)."""
    made = [make_module(nnx.Rngs(params=k, dropout=k)) for k in (0, 1)]
    name = type(made[0]).__name__
    if not isinstance(made[0], nnx.Module):
        raise ArgumentTypeError(
            f"make_module must return a flax.nnx.Module, got {name}"
            + (LINEN if isinstance(made[0], linen.Module) else "")
        )
    other = nnx.split(made[0], nnx.Param, nnx.RngState, ...)[-1]
    kinds = sorted({type(v).__name__ for _, v in nnx.to_flat_state(other)})
    if kinds:
        raise ArgumentError(
            f"{name} holds state that changes outside the gradient ({', '.join(kinds)}, e.g. "
            "nnx.BatchNorm's running statistics): a Model(init, apply) carries parameters "
            "only, so evaluation would use their initial values; use nnx.LayerNorm (or no "
            "normalisation), or train the module with an epoch function of your own that "
            "carries that state (d2l.epoch_function)"
        )
    made[1].eval()  # in place: no dropout key needed
    try:
        made[1](example)
    except TypeError as e:
        raise ArgumentTypeError(
            f"{name}.__call__ must take a batch alone, as apply calls it: module(x) failed "
            f"({e}); give its other arguments defaults (train()/eval() and the key switch "
            "dropout)"
        ) from None
    first, second = (nnx.to_pure_dict(nnx.split(m, nnx.Param, ...)[1]) for m in made)
    fix = "build its layers from the rngs make_module receives (nnx.Linear(..., rngs=rngs))"
    check_follows_key(first, second, name, fix + ", not an nnx.Rngs of its own")


def _observe(module_of, apply, params, example, name: str) -> None:
    """Refuse dropout that `train()` / `eval()` does not switch, or that ignores the key."""
    training, evaluating = module_of(params, jax.random.key(1)), module_of(params, None)
    drew = [not d.deterministic for d in _dropouts(training)]
    still = [not d.deterministic for d in _dropouts(evaluating)]
    try:
        outputs = [apply(params, example, key=jax.random.key(k)) for k in (1, 2)]
        follows = bool(jnp.any(outputs[0] != outputs[1]))
    except ValueError:  # flax: dropout with no rngs to draw from
        follows = False
    if any(still) or (drew and not all(drew)) or (drew and not follows):
        raise ArgumentError(
            f"{name}'s dropout is not reached by train()/eval() and the key: build each "
            "nnx.Dropout with the rngs make_module receives (nnx.Dropout(rate, rngs=rngs)) "
            "and leave `deterministic` unset, so train() turns it on and eval() off"
        )
