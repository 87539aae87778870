"""What `fit` runs around its epochs: hooks (nanodo's hooks, CLU's periodic actions).

A hook is a value with four moments, each a no-op unless overridden:

- `resume(state, run, carries)`: before the first epoch; a hook that keeps runs (a
  `Checkpoint`) returns what it restored, a `Resumed`, or None;
- `replay(record)`: on resume, once per restored epoch, in order;
- `after_epoch(state, record)`: after each epoch, in the order the hooks were given; raise
  `StopTraining` to end the run after this epoch (every other hook still sees it);
- `save(state, history, stopped, carries)`: after every hook saw the epoch, so a saved run
  knows it was stopped.

`carry(state)` is what a hook needs kept across a resume (early stopping's best
parameters), `restore_carry(tree)` takes it back. A plain function `fn(record)` is a hook
too (`Callback`). The divergence rule is not a hook: `fit` applies it before any hook runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import jax

from jaxd2l.core.errors import ArgumentTypeError

Record = dict[str, Any]


class StopTraining(Exception):
    """Raised by a hook or callback to end the run cleanly after this epoch: its record is
    in the history and, with a checkpoint, saved with the stop; `fit` returns as if it had
    run to the end (`timing["stopped_early"]` True), and a resume trains no further."""


class Resumed(NamedTuple):
    """What a hook restored: the state, the history so far, whether the run had stopped,
    and the hooks' carries (by position)."""

    state: Any
    history: list[Record]
    stopped: bool
    carries: dict[str, Any]


class Hook:
    """A hook of `fit` (see the module docstring); subclass and override what you need."""

    def resume(self, state: Any, run: dict[str, Any], carries: dict[str, Any]):
        return None

    def replay(self, record: Record) -> None:
        return None

    def after_epoch(self, state: Any, record: Record) -> None:
        return None

    def save(self, state: Any, history: list[Record], stopped: bool, carries) -> None:
        return None

    def carry(self, state: Any) -> Any:
        return None

    def restore_carry(self, tree: Any) -> None:
        return None

    def close(self) -> None:
        return None


class Callback(Hook):
    """`fn(record)` after every epoch (and for every restored epoch on resume, unless
    `replay=False`)."""

    def __init__(self, fn: Callable[[Record], None], replay: bool = True):
        self.fn, self.replays = fn, replay

    def replay(self, record: Record) -> None:
        if self.replays:
            self.fn(record)

    def after_epoch(self, state: Any, record: Record) -> None:
        self.fn(record)


def as_hooks(hooks: Iterable[Any]) -> list[Hook]:
    """Hooks as given, plain functions wrapped as `Callback` hooks."""
    if isinstance(hooks, (Hook, str)) or callable(hooks):
        raise ArgumentTypeError("hooks must be a list of hooks or functions: wrap one in [...]")
    out = []
    for i, hook in enumerate(hooks):
        if isinstance(hook, Hook):
            out.append(hook)
        elif callable(hook):
            out.append(Callback(hook))
        else:
            raise ArgumentTypeError(
                f"hooks[{i}] must be a Hook or a function of the epoch's record, got "
                f"{type(hook).__name__}"
            )
    return out


def _tree(state: Any, carries: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint of `fit` holds: the state, and the hooks' carries when any."""
    return {"state": state, "hooks": carries} if carries else {"state": state}


class Checkpoint(Hook):
    """Save the run after every epoch and resume it from the last whole save.

    `target` is a `Checkpointer` (its owner closes it) or a folder (opened here, resuming
    what it holds, closed when `fit` ends). The run's identity (epochs, batching, the data's
    shapes, which examples the weights select) is saved and compared on resume, as is the
    state's key: another run is refused by name, never resumed.
    """

    def __init__(self, target: Any):
        from jaxd2l.core.checkpoint import Checkpointer

        if not isinstance(target, (Checkpointer, str, os.PathLike)):
            raise ArgumentTypeError(
                "checkpoint must be a jaxd2l.core.checkpoint.Checkpointer or a folder path, "
                f"got {type(target).__name__}"
            )
        self.target, self.owned, self.run = target, not isinstance(target, Checkpointer), None
        self.checkpointer = None

    def _open(self):
        if self.checkpointer is None:
            from jaxd2l.core.checkpoint import Checkpointer

            if self.owned:
                self.checkpointer = Checkpointer(os.fspath(self.target), flags={}, resume=True)
            else:
                self.checkpointer = self.target
        return self.checkpointer

    def resume(self, state, run, carries):
        self.run = run
        checkpointer = self._open()
        found = checkpointer.restore_with(lambda meta: _tree(state, carries), state.key, run=run)
        if found is None:
            return None
        restored, meta = found
        return Resumed(
            restored["state"],
            list(meta["history"]),
            bool(meta.get("stopped", False)),
            restored.get("hooks", {}),
        )

    def save(self, state, history, stopped, carries) -> None:
        tree = _tree(state, carries)
        epoch = int(jax.device_get(state.epoch))
        self._open().save(epoch, tree, state.key, history, run=self.run, stopped=stopped)

    def close(self) -> None:
        if self.owned and self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None


class EarlyStopping(Hook):
    """d2l-en 5.5: stop after `patience` epochs without improving `monitor` (higher is
    better unless `mode="min"`), keeping the best epoch's parameters (`best_params`,
    `best_epoch`). A hook of `fit`: it raises `StopTraining`, and with a `Checkpoint` its
    best parameters are saved and a resume picks up where it was."""

    def __init__(self, patience: int, monitor: str = "test_acc", mode: str = "max"):
        from jaxd2l.core import checks

        self.patience = checks.integer(patience, "patience", minimum=1)
        self.monitor = monitor
        self.mode = checks.choice(mode, ("max", "min"), "mode")
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_params: Any = None
        self.waited = 0

    def update(self, record: Record, params: Any) -> bool:
        """Take one epoch's record and parameters; True when the run should stop."""
        from jaxd2l.core.errors import ArgumentError

        if self.monitor not in record:
            raise ArgumentError(
                f"early stopping monitors {self.monitor!r}, which the records lack: pass "
                "evaluate= and test= (the validation split) to fit"
            )
        value = record[self.monitor]
        better = self.best is None or (
            value > self.best if self.mode == "max" else value < self.best
        )
        if better:
            self.best, self.best_epoch, self.waited = value, record["epoch"], 0
            if params is not None:  # a copy: the state is donated to the next epoch
                self.best_params = jax.tree.map(lambda p: p.copy(), params)
            return False
        self.waited += 1
        return self.waited >= self.patience

    def replay(self, record: Record) -> None:
        self.update(record, None)  # the best parameters come back through the carry

    def after_epoch(self, state: Any, record: Record) -> None:
        if self.update(record, state.params):
            raise StopTraining

    def carry(self, state: Any) -> Any:
        return self.best_params if self.best_params is not None else state.params

    def restore_carry(self, tree: Any) -> None:
        if self.best_epoch is not None:
            self.best_params = tree
