"""What every driver does before its first epoch and after each: check the arguments once
(naming the one at fault), place state, data and key on the device(s), and bring an epoch's
sums to the host as means."""

from __future__ import annotations

import contextlib
import os
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.core import checks
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.epoch import Epoch, RunEpoch, check_roll
from jaxd2l.core.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.step import TrainState, TrainStep, summarize


def host_means(sums, prefix: str, parallel=None) -> dict[str, Any]:
    """Per-example means as floats (lists of floats, one per trial, for a vmapped step)."""
    means = summarize(sums)
    means = parallel.to_host(means) if parallel is not None else jax.device_get(means)
    return {f"{prefix}_{k}": np.asarray(v).tolist() for k, v in means.items() if k != "count"}


def check_data(run_epoch: RunEpoch, state: TrainState, data: Any, name: str) -> None:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ArgumentTypeError(f"{name} must be a pair (X, y), got {type(data).__name__}")
    X, y = data
    checks.dataset(X, y, name)
    if not isinstance(run_epoch, Epoch):
        return  # a hand-written epoch: it knows its data
    if run_epoch.prepare is None and X.dtype == np.uint8:
        raise ArgumentError(
            f"{name}: X holds uint8 pixels but nothing scales them: pass "
            "prepare=fashion_mnist.scale_images to make_epoch / make_evaluate"
        )
    if isinstance(run_epoch.step, TrainStep):  # not a vmapped step over stacked states
        checks.targets_fit_model(run_epoch.step.apply, state.params, X, y, run_epoch.prepare, name)


def parallel_of(run_epoch: RunEpoch):
    """The `DataParallel` an `Epoch` trains with; None for one device or a plain function."""
    return run_epoch.parallel if isinstance(run_epoch, Epoch) else None


def compiled_epoch(run_epoch: RunEpoch):
    """Something with `.lower`: an Epoch, a jitted function, or the function jitted here."""
    return run_epoch if hasattr(run_epoch, "lower") else jax.jit(run_epoch, donate_argnums=0)


class PreparedRun(NamedTuple):
    """A run's arguments checked and placed on the device(s), ready for a driver."""

    state: TrainState
    """A copy of the caller's state, which the driver may donate."""
    train: tuple[jax.Array, jax.Array]
    """The training pair (X, y) on the device(s)."""
    key: jax.Array
    """The run's training key, replicated where the run is data parallel."""
    epochs: int
    """The number of epochs, checked."""
    test: tuple[jax.Array, jax.Array] | None
    """The evaluation pair on the device(s), or None."""


def prepare_run(state, run_epoch, train, key, epochs, evaluate, test) -> PreparedRun:
    """What every driver does first: check the arguments once (naming the one at fault),
    then place the state (a copy the driver may donate), data and key on the device(s)."""
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((state, train, key))):
        raise ArgumentTypeError(
            "fit and its host drivers run a loop on the host (compiling, timing and saving "
            "each epoch) and cannot be traced by jax.jit or jax.vmap: for a whole run as one "
            "program use make_train (jax.jit(jax.vmap(train))(keys, X, y) for many seeds)"
        )
    epochs = checks.epochs(epochs)
    checks.key(key, "key")
    checks.callable_(run_epoch, "run_epoch")
    if (evaluate is None) != (test is None):
        raise ArgumentError("evaluate and test go together: pass both (or neither)")
    if evaluate is not None:
        checks.callable_(evaluate, "evaluate")
    check_data(run_epoch, state, train, "train")
    check_roll(run_epoch, int(train[0].shape[0]), epochs)
    if test is not None:
        check_data(run_epoch, state, test, "test")
    state, train, key, test = place(parallel_of(run_epoch), state, train, key, test)
    return PreparedRun(state, train, key, epochs, test)


def place(parallel, state, train, key, test):
    """Everything on the device(s) once: numpy data would otherwise be copied to the device
    at every epoch. The state is copied so the loop can donate it (the caller keeps theirs)."""
    if parallel is not None:
        state, train = parallel.place_state(state), parallel.place_data(train)
        key = parallel.replicate(key)
        test = parallel.place_data(test) if test is not None else None
    else:
        train, test = jax.device_put((train, test))
    return jax.tree.map(lambda x: x.copy(), state), train, key, test


def check_weights(weights, X, name: str, run_epoch=None):
    """Example weights as a float32 [N] array, or None."""
    if weights is None:
        return None
    if X is None:
        raise ArgumentError(f"{name} weight the test examples: pass test and evaluate too")
    if run_epoch is not None and not isinstance(run_epoch, Epoch):
        raise ArgumentTypeError(f"{name} need an Epoch from make_epoch, not a plain function")
    w = jnp.asarray(weights, jnp.float32)
    if w.shape != (X.shape[0],):
        raise ArgumentError(
            f"{name} must have shape ({X.shape[0]},), one per example, got {w.shape}"
        )
    if not bool(jnp.all(jnp.isfinite(w) & (w >= 0))):
        raise ArgumentError(f"{name} must be finite and >= 0")
    return w


@contextlib.contextmanager
def owned_checkpoint(checkpoint):
    """A Checkpointer as it is; a folder path opened (resuming) and closed here."""
    if checkpoint is None or isinstance(checkpoint, Checkpointer):
        yield checkpoint
        return
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise ArgumentTypeError(
            "checkpoint must be a jaxd2l.core.checkpoint.Checkpointer or a folder path, got "
            f"{type(checkpoint).__name__}"
        )
    with Checkpointer(os.fspath(checkpoint), flags={}, resume=True) as owned:
        yield owned
