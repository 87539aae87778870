"""Stacks of training states for `jax.vmap`: many seeds or many learning rates in one program.

Both helpers have one shape of call and return `(tx, states)`: `params` and `opt_state`
stacked on axis 0, one shared training `key` and `epoch`. Train with
`make_train_step(apply, loss, tx)` vmapped as `jax.vmap(step, in_axes=(0, None))` (an
`Epoch` hands its step the state without key and epoch), so every member sees the same
batches; `fit`'s history then holds one value per member. For members with batches of their
own (seeds of whole runs), vmap `make_train` instead.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.checks.sweeps import grid
from jaxd2l.core.step import Params, TrainState


def with_seeds(
    init: Callable[[jax.Array], Params],
    tx: optax.GradientTransformation,
    keys: jax.Array,
    key: jax.Array,
) -> tuple[optax.GradientTransformation, TrainState]:
    """An ensemble: one member per init key, for `jax.vmap(step, in_axes=(0, None))`.

    Args:
      init: `init(key) -> params` (e.g. `model.init`).
      tx: the optimizer, shared.
      keys: [n] init keys from `jax.random.split(key, n)`.
      key: the training key the members share (their batches).

    Returns:
      `(tx, states)`: `tx` unchanged and params and optimizer state stacked on axis 0
      (optax's `count` per member), `key` and `epoch` shared.
    """
    checks.optimizer(tx, "tx")
    checks.callable_(init, "init")
    if not checks.is_key(keys) or keys.ndim != 1 or keys.shape[0] == 0:
        raise ArgumentError(
            "keys must be a non-empty 1-D array of PRNG keys from jax.random.split(key, n), "
            f"got {getattr(keys, 'shape', keys)}"
        )
    checks.key(key, "key")
    params = jax.vmap(init)(keys)
    return tx, TrainState(params, jax.vmap(tx.init)(params), key, jnp.zeros((), jnp.int32))


def with_learning_rates(
    params: Params,
    tx_factory: Callable[..., optax.GradientTransformation],
    lrs: jax.Array,
    key: jax.Array,
) -> tuple[optax.GradientTransformation, TrainState]:
    """One member per learning rate, all from `params`, so one compiled step trains every rate.

    The rate moves into the optimizer state (`optax.inject_hyperparams`).

    Args:
      params: the initial parameters, shared.
      tx_factory: the optimizer's constructor (`optax.sgd`, `jaxd2l.sgd`), not an instance.
      lrs: a non-empty 1-D list of rates.
      key: the training key the members share (their batches).

    Returns:
      `(tx, states)`: the injected optimizer, params and optimizer state stacked on axis 0,
      `key` and `epoch` shared.
    """
    if isinstance(tx_factory, optax.GradientTransformation):
        raise ArgumentTypeError(
            "tx_factory must be an optimizer constructor such as optax.sgd (called with each "
            "learning rate), not an optimizer instance such as optax.sgd(0.1)"
        )
    checks.callable_(tx_factory, "tx_factory")
    lrs = jnp.asarray(grid(lrs, "lrs", above=0, unique=False), jnp.float32)
    checks.key(key, "key")
    tx = optax.inject_hyperparams(tx_factory)(learning_rate=lrs[0])

    def one(lr):
        opt_state = tx.init(params)
        hyper = dict(opt_state.hyperparams, learning_rate=lr)
        return params, opt_state._replace(hyperparams=hyper)

    stacked, opt_states = jax.vmap(one)(lrs)
    return tx, TrainState(stacked, opt_states, key, jnp.zeros((), jnp.int32))
