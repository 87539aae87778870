"""d2l's train_ch3, done on the device: a host loop over compiled, scanned epochs, with
hooks (`jaxd2l.core.hooks`) for checkpoints, early stopping, progress and callbacks.

Compilation is timed apart from steady state (ahead-of-time `lower().compile()`), every
epoch is timed with `block_until_ready`, and only per-epoch figures reach the host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jax

from jaxd2l.core import checks, divergence
from jaxd2l.core.arguments import Run, check_run, host_means, identity
from jaxd2l.core.divergence import DivergedError, check_divergence
from jaxd2l.core.epoch import Epoch
from jaxd2l.core.hooks import Hook, Record, StopTraining, as_hooks
from jaxd2l.core.signatures import named
from jaxd2l.core.step import TrainState

# Arguments people bring from other trainers (or earlier jaxd2l), and where they go now.
MOVED = {
    "callbacks": "callbacks are hooks: fit(..., hooks=[fn]), fn taking the epoch's record",
    "checkpoint": "fit(..., hooks=[Checkpoint(folder)])",
    "early_stopping": "fit(..., hooks=[EarlyStopping(patience)])",
    "key": "the key lives in the state: init_state(params, tx, key)",
    "weights": "example weights travel with the data: train=(X, y, weights)",
    "batch_size": "the epoch holds the batch size: make_epoch(step, batch_size)",
}
WHOLE_RUN = "one compiled program has no host between epochs: use fit for hooks"
HOOKS = ("callbacks", "checkpoint", "early_stopping")
IN_ONE_PROGRAM = {k: f"{WHOLE_RUN} ({v})" for k, v in MOVED.items() if k in HOOKS}
IN_A_WHOLE_RUN = {**MOVED, **IN_ONE_PROGRAM}  # what the whole-run drivers say


@dataclass
class FitResult:
    """What a driver returns."""

    state: TrainState
    """The trained `TrainState` (params, optimizer state, key, epochs trained)."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """One record per epoch, counted from 1: `epoch`, `train_loss` (and `train_acc` when
    the step computes accuracy), `test_*` with an evaluation, `seconds`."""
    timing: dict[str, Any] = field(default_factory=dict)
    """`compile_s` (epoch and evaluation, ahead of time), `epoch_s` (one per epoch run
    here, without evaluation), `median_epoch_s`, `total_s` (the whole call, compiling
    included); `stopped_early` when a hook ended the run (now or before a resume)."""

    @property
    def params(self):
        """The trained parameters (`state.params`)."""
        return self.state.params


@named(**MOVED)
def fit(
    state: TrainState,
    epoch: Epoch,
    train: tuple,
    epochs: int,
    *,
    evaluate: Callable | None = None,
    test: tuple | None = None,
    hooks: Iterable[Hook | Callable[[Record], None]] = (),
    divergence_factor: float | None = divergence.FACTOR,
) -> FitResult:
    """Train until the state has `epochs` epochs, one compiled epoch at a time (d2l's
    train_ch3).

    Contracts:
      - epoch e draws its batches from the state's key and e, so the scanned epoch,
        `fit_whole_run`, `fit_python_loop`, `make_train` and a resumed run reach the same
        parameters, in every remainder mode;
      - the caller's `state` is never donated: one initialisation can start many runs;
      - after each epoch: the divergence rule, then every hook's `after_epoch` in order (a
        `StopTraining` from one ends the run after the others saw the epoch), then every
        hook's `save` (a checkpoint records the stop, so a resume trains no further);
      - on resume (a `Checkpoint` hook) the restored records are replayed to the hooks
        first, one call per finished epoch, in order;
      - fit is a host loop and cannot itself be jitted or vmapped: for a whole run as one
        program use `make_train` (or `fit_whole_run`).

    Args:
      state: the initial `TrainState` (`init_state(params, tx, key)`); its `epoch` counts
        the epochs already trained.
      epoch: an `Epoch` (`make_epoch`, or `epoch_function` for your own function).
      train: (X, y), or (X, y, weights) with example weights [N] (a row of
        `kfold_weights`): each batch's loss is the weighted mean, the records' means too.
      epochs: the epoch to stop at (a resumed run counts the restored ones).
      evaluate: `evaluate(params, X, y[, weights]) -> sums` (`make_evaluate`), run on `test`
        after every epoch.
      test: (X, y) or (X, y, weights) to evaluate; goes with `evaluate`. Where train
        weights hold a fold out, evaluating the same examples needs the fold's weights.
      hooks: hooks (`Checkpoint(folder)`, `EarlyStopping(patience)`, ...) and plain
        functions of each epoch's record.
      divergence_factor: the divergence rule's factor (a loss that is not finite, or above
        this times the untrained model's first batch); None turns the rule off.

    Returns:
      `FitResult`: the trained state, one record per epoch, and the timings.

    Raises:
      DivergedError: an epoch broke the divergence rule (after its record reached the
        hooks; a vmapped stack of trials is marked with `divergence.diverged_runs` instead).
      CheckpointError: a checkpoint of another run (identity, key or model differ).
      ValueError, TypeError: a bad argument, named.
    """
    run = check_run(state, epoch, train, epochs, evaluate, test)
    if evaluate is not None and not hasattr(evaluate, "lower"):
        evaluate = jax.jit(evaluate)
    if divergence_factor is not None:
        divergence_factor = float(checks.learning_rate(divergence_factor, "divergence_factor"))
    hooks = as_hooks(hooks)
    try:
        return _fit(run, evaluate, hooks, divergence_factor)
    finally:
        for hook in hooks:
            hook.close()


def _carries(hooks: list[Hook], state: TrainState) -> dict[str, Any]:
    carries = {str(i): hook.carry(state) for i, hook in enumerate(hooks)}
    return {k: v for k, v in carries.items() if v is not None}


def _resume(run: Run, hooks: list[Hook]) -> tuple[TrainState, list[Record], bool]:
    """The state to start from, the history so far and whether the run already stopped:
    what a hook restored (replayed to every hook, a `StopTraining` honoured), or the run's
    own start."""
    state, carries = run.state, _carries(hooks, run.state)
    for hook in hooks:
        resumed = hook.resume(state, identity(run), carries)
        if resumed is None:
            continue
        print(f"resumed after epoch {len(resumed.history)}", flush=True)
        stopped = resumed.stopped
        for record in resumed.history:
            stopped = _each(hooks, "replay", record) or stopped
        for i, hook in enumerate(hooks):
            if str(i) in resumed.carries:
                hook.restore_carry(resumed.carries[str(i)])
        return resumed.state, resumed.history, stopped
    return state, [], False


def _each(hooks: list[Hook], moment: str, *args: Any) -> bool:
    """Call `moment` of every hook; True when one raised `StopTraining` (the others still
    run)."""
    stop = False
    for hook in hooks:
        try:
            getattr(hook, moment)(*args)
        except StopTraining:
            stop = True
    return stop


def _fit(run: Run, evaluate, hooks: list[Hook], factor: float | None) -> FitResult:
    t_start = time.perf_counter()
    state, history, stopped = _resume(run, hooks)
    start = int(jax.device_get(state.epoch))
    train, test, parallel = run.train, run.test, run.epoch.parallel
    epoch_s: list[float] = []
    compile_s, eval_fn = 0.0, None
    if start < run.epochs and not stopped:
        t0 = time.perf_counter()
        epoch_fn = run.epoch.lower(state, *train).compile()
        eval_fn = evaluate.lower(state.params, *test.given()).compile() if evaluate else None
        compile_s = time.perf_counter() - t0
    for e in range(start, run.epochs if not stopped else start):
        t0 = time.perf_counter()
        state, sums = jax.block_until_ready(epoch_fn(state, *train))
        epoch_s.append(time.perf_counter() - t0)
        record = {"epoch": e + 1, **host_means(sums, "train", parallel)}
        record["seconds"] = epoch_s[-1]
        if eval_fn is not None:
            t0 = time.perf_counter()
            record.update(host_means(eval_fn(state.params, *test.given()), "test", parallel))
            record["eval_seconds"] = time.perf_counter() - t0
        history.append(record)
        try:
            check_divergence(history, factor)
        except DivergedError:
            _each(hooks, "after_epoch", state, record)  # reported, never saved
            raise
        stopped = _each(hooks, "after_epoch", state, record)
        _each(hooks, "save", state, history, stopped, _carries(hooks, state))
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
