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
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.moved import ARGUMENTS
from jaxd2l.checks.signatures import named
from jaxd2l.core import history
from jaxd2l.core.arguments import CheckedRun, check_run, run_identity
from jaxd2l.core.epoch import Epoch
from jaxd2l.core.history import DivergedError, History, Record
from jaxd2l.core.hooks import Hook, Progress, StopTraining, as_hooks
from jaxd2l.core.step import TrainState


@dataclass
class FitResult:
    """What a driver returns."""

    state: TrainState
    """The trained `TrainState` (params, optimizer state, key, epochs trained)."""
    history: History = field(default_factory=dict)
    """Name -> array over epochs (`epoch` from 1, `train_loss`, `test_*` or `validation_*`,
    `seconds`; [epochs, members] for a vmapped stack)."""
    timing: dict[str, Any] = field(default_factory=dict)
    """`compile_s` (epoch and evaluation, ahead of time), `epoch_s` (each epoch run here,
    without evaluation), `median_epoch_s`, `total_s`, `stopped_early`."""
    kept: tuple[int, Any] | None = None
    """(epoch, params) a hook kept in place of the last epoch's (early stopping's best)."""
    untrained: Any = None
    """The divergence rule's reference: the untrained model's first-batch loss (one per
    member of a vmapped stack; None when the epoch measures none)."""

    @property
    def params(self):
        """The parameters to use: the kept epoch's when a hook kept one (early stopping's
        best), else the last epoch's (`state.params`, from which a run extends)."""
        return self.kept[1] if self.kept is not None else self.state.params

    @property
    def params_epoch(self) -> int:
        """The epoch `params` come from (counted from 1)."""
        return self.kept[0] if self.kept is not None else int(jax.device_get(self.state.epoch))

    @property
    def last(self) -> Record:
        """The last epoch's record (plain numbers)."""
        return {k: np.asarray(v[-1]).tolist() for k, v in self.history.items()}


@named(**ARGUMENTS)
def fit(
    state: TrainState,
    epoch: Epoch,
    train: tuple,
    epochs: int,
    *,
    evaluate: Callable | None = None,
    test: tuple | None = None,
    validation: tuple | None = None,
    hooks: Iterable[Hook | Callable[[Record], None]] = (),
    divergence_factor: float | None = history.FACTOR,
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
        hook's `save`;
      - on resume (a `Checkpoint`) the run's identity must equal the checkpoint's (else
        refused, naming what differs); its records are replayed to the hooks, so a hook
        that stopped the run stops it again; `epochs` is not identity: a run extends;
      - with an `EarlyStopping` hook the result's `params` are its best epoch's
        (`params_epoch` names it); `state` stays the last epoch's;
      - fit is a host loop: for a whole run as one program, `make_train`.

    Args:
      state: the initial `TrainState` (`init_state(params, tx, key)`); its `epoch` counts
        the epochs already trained.
      epoch: an `Epoch` (`make_epoch`, or `epoch_function` for your own function).
      train: (X, y), or (X, y, weights) with example weights [N] (a row of
        `kfold_weights`): each batch's loss is the weighted mean, the records' means too.
      epochs: the epoch to stop at (a resumed run counts the restored ones).
      evaluate: `evaluate(params, X, y[, weights]) -> sums` (`make_evaluate`), run on `test`
        (or `validation`) after every epoch.
      test: (X, y) or (X, y, weights) to evaluate (records' keys `test_*`); a fold held out
        of train needs its weights here too.
      validation: in place of `test`, a split held out for choosing (`validation_*`).
      hooks: hooks (`Checkpoint(folder)`, `EarlyStopping(patience, "validation_acc")`,
        ...) and plain functions of each epoch's record.
      divergence_factor: the divergence rule's factor (a loss that is not finite, or above
        this times the untrained model's first batch); None turns the rule off.

    Returns:
      `FitResult`: the trained state, the history as arrays, the timings.

    Raises:
      DivergedError: an epoch broke the divergence rule (after its record reached the
        hooks; a vmapped stack is marked with `history.diverged_runs` instead).
      CheckpointError: a checkpoint of another run (the part of its identity that
        differs named) or of another model.
      ValueError, TypeError: a bad argument, named.
    """
    run = check_run(state, epoch, train, epochs, evaluate, test, validation)
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
    """What the hooks keep across a resume, by their names."""
    carries = {hook.name: hook.carry(state) for hook in hooks if hook.name is not None}
    return {k: v for k, v in carries.items() if v is not None}


def _resume(run: CheckedRun, hooks: list[Hook], identity) -> tuple:
    """(state, records, untrained, stopped): what a hook restored (replayed to every hook:
    a hook that stopped the run stops it again), or the run's own start."""
    state, carries = run.state, _carries(hooks, run.state)
    for hook in hooks:
        resumed = hook.resume(state, identity, carries)
        if resumed is None:
            continue
        print(f"resumed after epoch {len(resumed.records)}", flush=True)
        stopped = False
        for record in resumed.records:
            stopped = _each(hooks, "replay", record) or stopped
        for hook in hooks:
            if hook.name in resumed.carries:
                hook.restore_carry(resumed.carries[hook.name])
        untrained = None if resumed.untrained is None else np.asarray(resumed.untrained)
        return resumed.state, list(resumed.records), untrained, stopped
    return state, [], None, False


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


def _host(x: Any, parallel) -> Any:
    if x is None:
        return None
    return np.asarray(parallel.to_host(x) if parallel is not None else jax.device_get(x))


def _fit(run: CheckedRun, evaluate, hooks: list[Hook], factor: float | None) -> FitResult:
    t_start = time.perf_counter()
    train, test, parallel = run.train, run.test, run.epoch.parallel
    lowered = run.epoch.program.lower(run.state, *train)
    lowered_eval = evaluate.lower(run.state.params, *test.given()) if evaluate else None
    identity = None
    if any(hook.keeps_runs for hook in hooks):  # derived once per run, never per epoch
        evaluation = lowered_eval.as_text() if lowered_eval is not None else None
        identity = run_identity(run, lowered.as_text(), evaluation)
    lower_s = time.perf_counter() - t_start
    state, records, untrained, stopped = _resume(run, hooks, identity)
    start = int(jax.device_get(state.epoch))
    epoch_s, losses, compile_s = [], [], 0.0
    if start < run.epochs and not stopped:
        t0 = time.perf_counter()
        epoch_fn = lowered.compile()
        eval_fn = lowered_eval.compile() if lowered_eval is not None else None
        compile_s = lower_s + time.perf_counter() - t0
    for e in range(start, run.epochs if not stopped else start):
        t0 = time.perf_counter()
        state, sums, first = jax.block_until_ready(epoch_fn(state, *train))
        epoch_s.append(time.perf_counter() - t0)
        if untrained is None:  # the first epoch this run trained: the rule's reference
            untrained = _host(first, parallel)
        record = {"epoch": e + 1, **history.means(sums, "train", parallel)}
        record["seconds"] = epoch_s[-1]
        if eval_fn is not None:
            t0 = time.perf_counter()
            sums_eval = eval_fn(state.params, *test.given())
            record.update(history.means(sums_eval, run.evaluated, parallel))
            record["eval_seconds"] = time.perf_counter() - t0
        records.append(record)
        losses.append(_host(sums["loss"] / sums["count"], parallel))
        try:
            if losses[-1].ndim == 0:  # one run; a vmapped stack's members are marked instead
                history.check_curve(losses, untrained, factor, start=start)
        except DivergedError as err:
            _each(hooks, "after_epoch", state, record)  # reported, never saved
            err.history = history.stack(records)
            raise
        stopped = _each(hooks, "after_epoch", state, record)
        progress = Progress(records, stopped, _carries(hooks, state), untrained)
        _each(hooks, "save", state, progress)
        if stopped:
            break
    timing = {
        "compile_s": compile_s,
        "epoch_s": epoch_s,
        "median_epoch_s": sorted(epoch_s)[len(epoch_s) // 2] if epoch_s else None,
        "total_s": time.perf_counter() - t_start,
        "stopped_early": stopped,
    }
    kept = next((k for k in (hook.kept() for hook in hooks) if k is not None), None)
    return FitResult(state, history.stack(records), timing, kept, untrained)
