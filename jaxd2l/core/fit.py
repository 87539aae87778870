"""d2l's train_ch3, done on the device: a host loop over compiled, scanned epochs.

Compilation is timed apart from steady state (ahead-of-time `lower().compile()`), every
epoch is timed with `block_until_ready`, and only per-epoch figures reach the host.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jax

from jaxd2l.core import checks, divergence
from jaxd2l.core.checkpoint import Checkpointer, CheckpointError
from jaxd2l.core.divergence import DivergedError, check_divergence
from jaxd2l.core.epoch import Epoch, RunEpoch
from jaxd2l.core.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.keys import epoch_key
from jaxd2l.core.prepare import compiled_epoch, host_means, parallel_of, prepare_run
from jaxd2l.core.step import TrainState

EpochCallback = Callable[[dict[str, Any]], None]


@dataclass
class FitResult:
    state: TrainState
    history: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self):
        return self.state.params


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
) -> FitResult:
    """Train for `epochs` epochs; epoch e runs with `keys.epoch_key(key, e)`.

    `run_epoch` is an `Epoch` from `make_epoch` (its `parallel`, if any, places the state
    and data) or any `run_epoch(state, X, y, key) -> (state, sums)` function whose sums
    hold `count` and `loss` (jitted here if it is not); `evaluate` from `make_evaluate`
    or any `(params, X, y) -> sums` function (jitted here if it is not), run on `test`
    after every epoch. Each epoch's record (`train_loss`, `train_acc` when the step computes
    accuracy, `test_*`, `seconds`) goes to every callback as it finishes.

    The caller's `state` is never donated: fit trains a copy, so one initialisation can
    start many runs. An epoch that breaks the divergence rule (`jaxd2l.core.divergence`: a loss
    that is not finite, or above `divergence_factor` times the untrained model's first
    batch; None turns the rule off) raises `DivergedError` after its record reached the
    callbacks (for a vmapped stack of trials, `train_diverged` marks the members and
    training goes on). With `checkpoint` (a `Checkpointer`, or a folder path for a new one
    that resumes what it holds) the run is saved after every epoch and continues from the
    last whole saved epoch, giving the same numbers as a run never interrupted; a
    checkpoint past `epochs` is refused, naming both. With `early_stopping`
    (`jaxd2l.core.early_stopping.EarlyStopping`) the run stops once it says so; it holds the
    best epoch's parameters.
    """
    state, (X, y), key, epochs, test = prepare_run(
        state, run_epoch, train, key, epochs, evaluate, test
    )
    if evaluate is not None and not hasattr(evaluate, "lower"):
        evaluate = jax.jit(evaluate)
    parallel = parallel_of(run_epoch)
    if divergence_factor is not None:
        divergence_factor = float(checks.learning_rate(divergence_factor, "divergence_factor"))
    if early_stopping is not None and checkpoint is not None:
        raise ArgumentError("early_stopping and checkpoint do not combine: use one of them")
    with _owned(checkpoint) as checkpoint:
        return _fit(
            state,
            run_epoch,
            X,
            y,
            key,
            epochs,
            evaluate,
            test,
            callbacks,
            checkpoint,
            divergence_factor,
            parallel,
            early_stopping,
        )


@contextlib.contextmanager
def _owned(checkpoint):
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


def _fit(
    state,
    run_epoch,
    X,
    y,
    key,
    epochs,
    evaluate,
    test,
    callbacks,
    checkpoint,
    factor,
    parallel,
    early_stopping,
) -> FitResult:
    history: list[dict[str, Any]] = []
    start = 0
    restored = checkpoint.restore(state, key) if checkpoint is not None else None
    if restored is not None:
        state, start, history = restored
        if start > epochs:
            raise CheckpointError(
                f"the checkpoint in {checkpoint.directory} has trained {start} epochs, more "
                f"than the {epochs} asked for: ask for {start} or more, or start a new run"
            )
        print(f"resumed from {checkpoint.directory} after epoch {start}", flush=True)
        for record in history:
            for callback in callbacks:
                callback(record)

    t_start = time.perf_counter()
    t0 = time.perf_counter()
    epoch_fn = compiled_epoch(run_epoch).lower(state, X, y, key).compile()
    eval_fn = evaluate.lower(state.params, *test).compile() if evaluate is not None else None
    compile_s = time.perf_counter() - t0

    epoch_s = []
    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        state, sums = epoch_fn(state, X, y, epoch_key(key, epoch))
        jax.block_until_ready((state, sums))
        seconds = time.perf_counter() - t0
        epoch_s.append(seconds)
        record = {"epoch": epoch + 1, **host_means(sums, "train", parallel), "seconds": seconds}
        if eval_fn is not None:
            t0 = time.perf_counter()
            record.update(host_means(eval_fn(state.params, *test), "test", parallel))
            record["eval_seconds"] = time.perf_counter() - t0
        history.append(record)
        diverged = None
        try:
            check_divergence(history, factor)
        except DivergedError as e:
            diverged = e
        for callback in callbacks:
            callback(record)
        if diverged is not None:
            raise diverged
        if checkpoint is not None:
            checkpoint.save(epoch + 1, state, key, history)
        if early_stopping is not None and early_stopping.update(record, state.params):
            break
    timing = {
        "compile_s": compile_s,
        "epoch_s": epoch_s,
        "median_epoch_s": sorted(epoch_s)[len(epoch_s) // 2] if epoch_s else None,
        "total_s": time.perf_counter() - t_start,
    }
    return FitResult(state, history, timing)
