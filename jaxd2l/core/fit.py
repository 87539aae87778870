"""d2l's train_ch3, done on the device: a host loop over compiled, scanned epochs.

Compilation is timed apart from steady state (ahead-of-time `lower().compile()`), every
epoch is timed with `block_until_ready`, and only per-epoch figures reach the host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxd2l.core import checks, divergence
from jaxd2l.core.checkpoint import Checkpointer, CheckpointError
from jaxd2l.core.divergence import DivergedError, check_divergence
from jaxd2l.core.epoch import Epoch, RunEpoch, epoch_arguments
from jaxd2l.core.errors import ArgumentError
from jaxd2l.core.prepare import (
    check_weights,
    compiled_epoch,
    host_means,
    owned_checkpoint,
    parallel_of,
    prepare_run,
)
from jaxd2l.core.step import TrainState

EpochCallback = Callable[[dict[str, Any]], None]


class StopTraining(Exception):
    """Raised by an epoch callback to end the run cleanly after this epoch: its record is in
    the history and, with a checkpoint, saved; `fit` returns as if it had run to the end
    (`timing["stopped_early"]` True)."""


@dataclass
class FitResult:
    """What a driver returns."""

    state: TrainState
    """The trained `TrainState` (params and optimizer state)."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """One record per epoch, counted from 1: `epoch`, `train_loss` (and `train_acc` when
    the step computes accuracy), `test_*` with an evaluation, `seconds`."""
    timing: dict[str, Any] = field(default_factory=dict)
    """`compile_s` (epoch and evaluation, ahead of time), `epoch_s` (one per epoch run
    here, without evaluation), `median_epoch_s`, `total_s` (the whole call, compiling
    included); `stopped_early` when a callback or early stopping ended the run."""

    @property
    def params(self):
        """The trained parameters (`state.params`)."""
        return self.state.params


class _Loop(NamedTuple):
    """fit's arguments, checked and placed."""

    run_epoch: Any
    X: jax.Array
    y: jax.Array
    key: jax.Array
    epochs: int
    evaluate: Callable | None
    test: Any
    callbacks: list[EpochCallback]
    factor: float | None
    parallel: Any
    early_stopping: Any
    weights: jax.Array | None
    test_weights: jax.Array | None
    replay: bool


def fit(
    state: TrainState,
    run_epoch: Epoch | RunEpoch,
    train: tuple[jax.Array, jax.Array],
    key: jax.Array,
    epochs: int,
    *,
    evaluate: Callable | None = None,
    test: tuple[jax.Array, jax.Array] | None = None,
    callbacks: Iterable[EpochCallback] = (),
    checkpoint: Checkpointer | str | None = None,
    divergence_factor: float | None = divergence.FACTOR,
    early_stopping: Any = None,
    weights: jax.Array | None = None,
    test_weights: jax.Array | None = None,
    replay_history: bool = True,
) -> FitResult:
    """Train for `epochs` epochs on the host, one compiled epoch at a time (d2l's train_ch3).

    Contracts:
      - epoch e (counted from 0 here, from 1 in the records) shuffles with
        `keys.epoch_key(key, e)`; the scanned epoch, `fit_whole_run`, `fit_python_loop`
        and a resumed run draw the same batches and reach the same parameters;
      - the caller's `state` is never donated: one initialisation can start many runs;
      - after each epoch: the divergence rule, then the checkpoint, then the callbacks, then
        early stopping; a callback raising `StopTraining` ends the run with that epoch kept;
      - on resume the restored records are replayed to the callbacks first (one call per
        finished epoch, in order) unless `replay_history=False`;
      - fit is a host loop and cannot itself be jitted or vmapped: for a whole run as one
        program use `make_train` (or `fit_whole_run`).

    Args:
      state: the initial `TrainState` (`init_state(params, tx)`).
      run_epoch: an `Epoch` from `make_epoch` (its `parallel`, if any, places state and
        data) or any `run_epoch(state, X, y, key) -> (state, sums)` whose sums hold `count`
        and `loss` (jitted here if it is not).
      train: the training pair (X, y).
      key: the run's training key (`run_keys(seed).train`).
      epochs: the number of epochs in all (a resumed run counts the restored ones).
      evaluate: `evaluate(params, X, y[, weights]) -> sums` (`make_evaluate`), run on `test`
        after every epoch.
      test: the evaluation pair; goes with `evaluate`.
      callbacks: each called with every epoch's record as it finishes.
      checkpoint: a `Checkpointer`, or a folder (opened here, resuming what it holds):
        saved after every epoch, resumed from the last whole one.
      divergence_factor: the divergence rule's factor (a loss that is not finite, or above
        this times the untrained model's first batch); None turns the rule off.
      early_stopping: an `EarlyStopping`: stops the run when it says so and keeps the best
        epoch's parameters.
      weights: [N] example weights of `train` (e.g. one row of `kfold_weights`): each
        batch's loss is the weighted mean sum(w*l) / max(sum(w), 1), and the records'
        means are weighted the same way; needs an `Epoch`.
      test_weights: [N_test] example weights of `test` (a fold's validation examples).
      replay_history: replay the restored records to the callbacks on resume.

    Returns:
      `FitResult`: the trained state, one record per epoch, and the timings.

    Raises:
      DivergedError: an epoch broke the divergence rule (after its record reached the
        callbacks; a vmapped stack of trials marks members in `train_diverged` instead).
      CheckpointError: a checkpoint of another run, or past `epochs`.
      ValueError, TypeError: a bad argument, named.
    """
    state, (X, y), key, epochs, test = prepare_run(
        state, run_epoch, train, key, epochs, evaluate, test
    )
    if evaluate is not None and not hasattr(evaluate, "lower"):
        evaluate = jax.jit(evaluate)
    if divergence_factor is not None:
        divergence_factor = float(checks.learning_rate(divergence_factor, "divergence_factor"))
    if early_stopping is not None and checkpoint is not None:
        raise ArgumentError("early_stopping and checkpoint do not combine: use one of them")
    weights = check_weights(weights, X, "weights", run_epoch)
    test_weights = check_weights(test_weights, test[0] if test else None, "test_weights")
    loop = _Loop(
        run_epoch,
        X,
        y,
        key,
        epochs,
        evaluate,
        test,
        list(callbacks),
        divergence_factor,
        parallel_of(run_epoch),
        early_stopping,
        weights,
        test_weights,
        replay_history,
    )
    with owned_checkpoint(checkpoint) as checkpoint:
        return _fit(state, loop, checkpoint)


def _fit(state: TrainState, loop: _Loop, checkpoint: Checkpointer | None) -> FitResult:
    X, y, key, test = loop.X, loop.y, loop.key, loop.test
    history: list[dict[str, Any]] = []
    start = 0
    restored = checkpoint.restore(state, key) if checkpoint is not None else None
    if restored is not None:
        state, start, history = restored
        if start > loop.epochs:
            raise CheckpointError(
                f"the checkpoint in {checkpoint.directory} has trained {start} epochs, more "
                f"than the {loop.epochs} asked for: ask for {start} or more, or start a new run"
            )
        print(f"resumed from {checkpoint.directory} after epoch {start}", flush=True)
        for record in history if loop.replay else ():
            for callback in loop.callbacks:
                callback(record)

    t_start = time.perf_counter()
    t0 = time.perf_counter()
    test_extra = () if loop.test_weights is None else (loop.test_weights,)
    first = epoch_arguments(loop.run_epoch, key, jnp.int32(start), loop.weights)
    epoch_fn = compiled_epoch(loop.run_epoch).lower(state, X, y, *first).compile()
    eval_fn = None
    if loop.evaluate is not None:
        eval_fn = loop.evaluate.lower(state.params, *test, *test_extra).compile()
    compile_s = time.perf_counter() - t0

    epoch_s, stopped = [], False
    for epoch in range(start, loop.epochs):
        t0 = time.perf_counter()
        args = epoch_arguments(loop.run_epoch, key, jnp.int32(epoch), loop.weights)
        state, sums = epoch_fn(state, X, y, *args)
        jax.block_until_ready((state, sums))
        seconds = time.perf_counter() - t0
        epoch_s.append(seconds)
        record = {"epoch": epoch + 1, **host_means(sums, "train", loop.parallel)}
        record["seconds"] = seconds
        if eval_fn is not None:
            t0 = time.perf_counter()
            test_sums = eval_fn(state.params, *test, *test_extra)
            record.update(host_means(test_sums, "test", loop.parallel))
            record["eval_seconds"] = time.perf_counter() - t0
        history.append(record)
        try:
            check_divergence(history, loop.factor)
        except DivergedError:
            _call(loop.callbacks, record)  # the diverged epoch is reported, never saved
            raise
        if checkpoint is not None:
            checkpoint.save(epoch + 1, state, key, history)
        stopped = _call(loop.callbacks, record)
        if loop.early_stopping is not None and loop.early_stopping.update(record, state.params):
            stopped = True
        if stopped:
            break
    timing = {
        "compile_s": compile_s,
        "epoch_s": epoch_s,
        "median_epoch_s": sorted(epoch_s)[len(epoch_s) // 2] if epoch_s else None,
        "total_s": time.perf_counter() - t_start,
        "stopped_early": stopped,
    }
    return FitResult(state, history, timing)


def _call(callbacks: list[EpochCallback], record: dict[str, Any]) -> bool:
    """Run every callback on `record`; True when one raised `StopTraining` (the others
    still run)."""
    stop = False
    for callback in callbacks:
        try:
            callback(record)
        except StopTraining:
            stop = True
    return stop
