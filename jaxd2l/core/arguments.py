"""What every driver does before its first epoch and after each: check the arguments once
(naming the one at fault), place state, data and weights on the device(s), and bring an
epoch's sums to the host as means.

Data travel as tuples: `train=(X, y)` or `(X, y, weights)`, `test=(X, y)` or
`(X, y, test_weights)`; weights are example weights (K folds are rows of `kfold_weights`).
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxd2l.core import checks
from jaxd2l.core.epoch import Epoch, as_epoch, uint8_unscaled
from jaxd2l.core.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.step import TrainState, TrainStep, summarize


class Split(NamedTuple):
    """A split as the drivers use it: inputs, targets and optional example weights."""

    X: jax.Array
    """Inputs [N, ...]."""
    y: jax.Array
    """Targets [N]."""
    weights: jax.Array | None = None
    """Example weights [N] float32, or None (every example counts once)."""

    def given(self) -> tuple:
        """(X, y), or (X, y, weights) when there are weights: an evaluation's arguments."""
        return (self.X, self.y) if self.weights is None else (self.X, self.y, self.weights)


def host_means(sums, prefix: str, parallel=None) -> dict[str, Any]:
    """Per-example means as floats (lists of floats, one per trial, for a vmapped step)."""
    means = summarize(sums)
    means = parallel.to_host(means) if parallel is not None else jax.device_get(means)
    return {f"{prefix}_{k}": np.asarray(v).tolist() for k, v in means.items() if k != "count"}


def check_state(state: Any) -> TrainState:
    if not isinstance(state, TrainState):
        raise ArgumentTypeError(
            "state must be a TrainState from init_state(params, tx, key), got "
            f"{type(state).__name__}"
        )
    checks.key(state.key, "state.key")
    return state


def split_of(data: Any, name: str) -> Split:
    """(X, y) or (X, y, weights) as a `Split`, each part checked."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ArgumentTypeError(
            f"{name} must be a pair (X, y) or a triple (X, y, weights), got "
            f"{type(data).__name__}" + (f" of {len(data)}" if isinstance(data, tuple) else "")
        )
    X, y, *rest = data
    checks.dataset(X, y, name)
    weights = rest[0] if rest else None
    if weights is not None:
        weights = checks.example_weights(weights, X.shape[0], f"{name} weights")
    return Split(X, y, weights)


def check_model_data(epoch: Epoch, state: TrainState, split: Split, name: str) -> None:
    if uint8_unscaled(epoch, split.X):
        raise ArgumentError(
            f"{name}: X holds uint8 pixels but nothing scales them: pass "
            "prepare=fashion_mnist.scale_images to make_epoch / make_evaluate"
        )
    if isinstance(epoch.step, TrainStep):  # not a vmapped step over stacked states
        checks.targets_fit_model(
            epoch.step.apply, state.params, split.X, split.y, epoch.prepare, name
        )


def holds_out(weights: jax.Array | None) -> bool:
    """True when example weights leave some examples out of training (a K-fold row)."""
    return weights is not None and bool((np.asarray(jax.device_get(weights)) == 0).any())


def check_held_out(train: Split, test: Split | None) -> None:
    """Weights that hold a fold out, evaluated on the same examples with no weights, would
    count the training fold as validation: refuse it, naming the fix."""
    if test is None or test.weights is not None or not holds_out(train.weights):
        return
    same = test.X is train.X or (
        test.X.shape == train.X.shape and bool(np.array_equal(*jax.device_get((test.X, train.X))))
    )
    if same:
        raise ArgumentError(
            "train weights hold examples out (a fold) but test evaluates the same examples "
            "without weights, the training fold included: pass test=(X, y, val_weights) "
            "(the held-out fold, e.g. 1 - weights)"
        )


class Run(NamedTuple):
    """A run's arguments checked and placed on the device(s), ready for a driver."""

    state: TrainState
    """A copy of the caller's state, which the driver may donate."""
    epoch: Epoch
    """The epoch."""
    train: Split
    """The training split on the device(s)."""
    epochs: int
    """The epoch to stop at (the state's `epoch` counts those already trained)."""
    test: Split | None
    """The evaluation split on the device(s), or None."""


def check_run(state, epoch, train, epochs, evaluate=None, test=None) -> Run:
    """What every host driver does first: check the arguments once (naming the one at
    fault), then place the state (a copy the driver may donate) and data on the device(s)."""
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((state, train))):
        raise ArgumentTypeError(
            "fit and its host drivers run a loop on the host (compiling, timing and saving "
            "each epoch) and cannot be traced by jax.jit or jax.vmap: for a whole run as one "
            "program use make_train (jax.jit(jax.vmap(train))(keys, (X, y)) for many seeds)"
        )
    state, epoch = check_state(state), as_epoch(epoch)
    epochs = checks.epochs(epochs)
    done = int(jax.device_get(state.epoch))
    if done > epochs:
        raise ArgumentError(
            f"the state has trained {done} epochs, more than epochs={epochs} (the epoch to "
            f"stop at): ask for {done} or more"
        )
    if (evaluate is None) != (test is None):
        raise ArgumentError("evaluate and test go together: pass both (or neither)")
    if evaluate is not None:
        checks.callable_(evaluate, "evaluate")
    train = split_of(train, "train")
    check_model_data(epoch, state, train, "train")
    epoch.check(int(train.X.shape[0]), epochs)
    if test is not None:
        test = split_of(test, "test")
        check_model_data(epoch, state, test, "test")
        check_held_out(train, test)
    state, train, test = place(epoch.parallel, state, train, test)
    return Run(state, epoch, train, epochs, test)


def place(parallel, state, train, test):
    """Everything on the device(s) once: numpy data would otherwise be copied to the device
    at every epoch. The state is copied so the loop can donate it (the caller keeps theirs)."""
    if parallel is not None:
        state, train = parallel.place_state(state), parallel.place_data(train)
        test = parallel.place_data(test) if test is not None else None
    else:
        train, test = jax.device_put((train, test))
    return jax.tree.map(lambda x: x.copy(), state), train, test


def digest(weights: jax.Array | None) -> str | None:
    """A short fingerprint of example weights (which fold a run trains on)."""
    if weights is None:
        return None
    data = np.ascontiguousarray(np.asarray(jax.device_get(weights), np.float32))
    return hashlib.sha256(data.tobytes()).hexdigest()[:16]


def identity(run: Run) -> dict[str, Any]:
    """What makes a run the same run, for a checkpoint to compare on resume: the epochs,
    the epoch's batching, the data's shapes and which examples the weights select."""

    def shapes(split: Split | None):
        if split is None:
            return None
        return [[list(a.shape), str(a.dtype)] for a in (split.X, split.y)]

    return {
        "epochs": run.epochs,
        "batch_size": run.epoch.batch_size,
        "remainder": run.epoch.remainder,
        "train": shapes(run.train),
        "weights": digest(run.train.weights),
        "test": shapes(run.test),
        "test_weights": digest(run.test.weights) if run.test is not None else None,
    }
