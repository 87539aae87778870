"""d2l 3.1-3.5's linear regression beyond the engine: the exact answer timed, the fit scored
against the true parameters, and a learning-rate sweep trained as one vmapped program."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.sweeps import grid
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.history import diverged_runs
from jaxd2l.core.step import make_train_step
from jaxd2l.data.synthetic import TRUE_B, TRUE_W
from jaxd2l.models import linear
from jaxd2l.nn.losses import squared_loss
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.stacks import with_learning_rates


def solve_timed(X: jax.Array, y: jax.Array) -> tuple[dict[str, jax.Array], dict[str, float]]:
    """The closed form (d2l 3.1.1.2), with its compile and solve seconds."""
    t0 = time.perf_counter()
    solve = jax.jit(linear.closed_form).lower(X, y).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    params = jax.block_until_ready(solve(X, y))
    return params, {"compile_s": compile_s, "epoch_s": [], "solve_s": time.perf_counter() - t0}


def from_concise(params: Any) -> dict[str, jax.Array]:
    """flax's Dense(1) parameters (Linen's `Dense_0`, NNX's `dense`) in the scratch layout:
    w [d], b []."""
    layer = params["Dense_0"] if "Dense_0" in params else params["dense"]
    return {"w": layer["kernel"][:, 0], "b": layer["bias"][0]}


def score(params: dict[str, Any], X: jax.Array, y: jax.Array) -> dict[str, Any]:
    """The mean squared loss on (X, y) and the errors against the true w and b."""
    w_err = np.asarray(TRUE_W) - np.asarray(params["w"])
    loss = float(jnp.mean(squared_loss(linear.apply(params, X), y)))
    return {"loss": loss, "w_err": w_err.tolist(), "b_err": TRUE_B - float(params["b"])}


def learning_rate_curves(
    apply: Any,
    loss: Any,
    params: Any,
    tx_factory: Any,
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
    tx, states = with_learning_rates(params, tx_factory, lrs, key)
    step = jax.vmap(make_train_step(apply, loss, tx), in_axes=(0, None))
    run_epoch = make_epoch(step, batch_size, per_batch=True)
    X, y = data
    curves = []
    for _ in range(checks.integer(epochs, "epochs", minimum=1)):
        states, sums = run_epoch(states, X, y)
        curves.append(jax.device_get(sums["loss"] / sums["count"]))  # [batches, rates]
    curves = jnp.concatenate(curves).T.tolist()
    return {str(float(lr)): c for lr, c in zip(list(lrs), curves, strict=True)}


def lr_sweep(
    X: jax.Array,
    y: jax.Array,
    lrs: Sequence[float],
    *,
    init_key: jax.Array,
    train_key: jax.Array,
    batch_size: int,
    epochs: int,
) -> tuple[dict[float, list[float]], dict[float, dict[str, Any]]]:
    """Every learning rate trained at once from one init on the same batches (vmap); a
    rate diverged when a minibatch loss broke the drivers' rule (`divergence.diverged_runs`).

    Returns:
      (minibatch loss curves by rate, each rate's final loss and whether it diverged).
    """
    lrs = grid(lrs, "lrs", above=0)  # each names its curve
    curves = learning_rate_curves(
        linear.apply,
        squared_loss,
        linear.init(init_key, X.shape[1]),
        sgd,
        lrs,
        (X, y),
        batch_size=batch_size,
        epochs=epochs,
        key=train_key,
    )
    verdicts = {  # the drivers' rule: not finite, or 100x the untrained first batch's
        lr: {"final_loss": c[-1], "diverged": bool(diverged_runs(c, c[0]))}
        for lr, c in curves.items()
    }
    return curves, verdicts
