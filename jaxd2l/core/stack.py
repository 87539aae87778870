"""Stacks of training states for `jax.vmap`: many seeds or many learning rates in one program.

Both helpers have one shape of call and return `(tx, states)`: train with
`make_train_step(apply, loss, tx)` vmapped as `jax.vmap(step, in_axes=(0, None))`, so every
member sees the same batches; `fit`'s history then holds one value per member.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxd2l.core import checks
from jaxd2l.core.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.model import Params
from jaxd2l.core.step import TrainState, check_tx, init_state


def with_seeds(
    init: Callable[[jax.Array], Params], tx: optax.GradientTransformation, keys: jax.Array
) -> tuple[optax.GradientTransformation, TrainState]:
    """An ensemble: one member per key, for `jax.vmap(step, in_axes=(0, None))`.

    Args:
      init: `init(key) -> params` (e.g. `model.init`).
      tx: the optimizer, shared.
      keys: [n] keys from `jax.random.split(key, n)`.

    Returns:
      `(tx, states)`: `tx` unchanged and the states stacked on axis 0 (optax's `count`
      per member).
    """
    check_tx(tx)
    checks.callable_(init, "init")
    if not checks.is_key(keys) or keys.ndim != 1 or keys.shape[0] == 0:
        raise ArgumentError(
            "keys must be a non-empty 1-D array of PRNG keys from jax.random.split(key, n), "
            f"got {getattr(keys, 'shape', keys)}"
        )
    return tx, jax.vmap(lambda k: init_state(init(k), tx))(keys)


def with_learning_rates(
    params: Params, tx_factory: Callable[..., optax.GradientTransformation], lrs: jax.Array
) -> tuple[optax.GradientTransformation, TrainState]:
    """One member per learning rate, all from `params`, so one compiled step trains every rate.

    The rate moves into the optimizer state (`optax.inject_hyperparams`).

    Args:
      params: the initial parameters, shared.
      tx_factory: the optimizer's constructor (`optax.sgd`, `jaxd2l.sgd`), not an instance.
      lrs: a non-empty 1-D list of rates.

    Returns:
      `(tx, states)`: the injected optimizer and the states stacked on axis 0.
    """
    if isinstance(tx_factory, optax.GradientTransformation):
        raise ArgumentTypeError(
            "tx_factory must be an optimizer constructor such as optax.sgd (called with each "
            "learning rate), not an optimizer instance such as optax.sgd(0.1)"
        )
    checks.callable_(tx_factory, "tx_factory")
    lrs = jnp.asarray(lrs, jnp.float32)
    if lrs.ndim != 1 or lrs.shape[0] == 0:
        raise ArgumentError(
            f"lrs must be a non-empty 1-D list of learning rates, got shape {lrs.shape}"
        )
    for i, lr in enumerate(lrs.tolist()):
        checks.learning_rate(lr, f"lrs[{i}]")
    tx = optax.inject_hyperparams(tx_factory)(learning_rate=lrs[0])

    def one(lr):
        opt_state = tx.init(params)
        hyper = dict(opt_state.hyperparams, learning_rate=lr)
        return TrainState(params, opt_state._replace(hyperparams=hyper))

    return tx, jax.vmap(one)(lrs)


def learning_rate_curves(
    apply: Callable,
    loss: Callable,
    params: Params,
    tx_factory: Callable[..., optax.GradientTransformation],
    lrs,
    data: tuple[jax.Array, jax.Array],
    *,
    batch_size: int,
    epochs: int,
    key: jax.Array,
) -> dict[str, list[float]]:
    """Every rate in `lrs` trained at once from `params` on the same batches (epoch e
    shuffled from `keys.epoch_key(key, e)`): the per-minibatch loss curve of each, keyed by
    the rate as text. A diverging rate gives inf/nan values instead of an error."""
    from jaxd2l.core.epoch import make_epoch
    from jaxd2l.core.keys import epoch_key
    from jaxd2l.core.step import make_train_step

    tx, states = with_learning_rates(params, tx_factory, lrs)
    step = jax.vmap(make_train_step(apply, loss, tx), in_axes=(0, None))
    run_epoch = make_epoch(step, batch_size, per_batch=True)
    X, y = data
    curves = []
    for epoch in range(checks.integer(epochs, "epochs", minimum=1)):
        states, sums = run_epoch(states, X, y, epoch_key(key, epoch))
        curves.append(jax.device_get(sums["loss"] / sums["count"]))  # [batches, rates]
    curves = jnp.concatenate(curves).T.tolist()
    return {str(float(lr)): c for lr, c in zip(list(lrs), curves, strict=True)}
