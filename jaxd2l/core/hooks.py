"""What `fit` runs around its epochs: hooks (nanodo's hooks, CLU's periodic actions).

A hook is a value with four moments, each a no-op unless overridden:

- `resume(state, identity, carries)`: before the first epoch; a hook that keeps runs (a
  `Checkpoint`) returns what it restored, a `Resumed`, or None (`identity` is the run's,
  derived from its program and inputs: `jaxd2l.core.arguments.run_identity`);
- `replay(record)`: on resume, once per restored epoch, in order;
- `after_epoch(state, record)`: after each epoch, in the order the hooks were given; raise
  `StopTraining` to end the run after this epoch (every other hook still sees it);
- `save(state, history, stopped, carries)`: after every hook saw the epoch, so a saved run
  knows it was stopped.

`carry(state)` is what a hook needs kept across a resume (early stopping's best
parameters), saved under the hook's `name` (never its position in the list), and
`restore_carry(tree)` takes it back. `kept()` offers the parameters `fit` should return
instead of the last epoch's (early stopping's best epoch). A plain function `fn(record)` is
a hook too (`Callback`). The divergence rule is not a hook: `fit` applies it before any
hook runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import jax

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError

Record = dict[str, Any]


class StopTraining(Exception):
    """Raised by a hook or callback to end the run cleanly after this epoch: its record is
    in the history and, with a checkpoint, saved with the stop; `fit` returns as if it had
    run to the end (`timing["stopped_early"]` True), and a resume trains no further."""


class Resumed(NamedTuple):
    """What a hook restored: the state, the history so far and the hooks' carries, by the
    hooks' names."""

    state: Any
    history: list[Record]
    carries: dict[str, Any]


NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Hook:
    """A hook of `fit` (see the module docstring); subclass and override what you need.

    `name` says where its `carry` is saved (a checkpoint keeps it under that name): a hook
    that carries state needs one, unique among the run's hooks."""

    name: str | None = None
    keeps_runs = False
    """True for a hook that saves and resumes runs: `fit` then derives the run's identity."""

    def resume(self, state: Any, identity: dict[str, Any], carries: dict[str, Any]):
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

    def kept(self) -> tuple[int, Any] | None:
        """(epoch, params) `fit` returns as its parameters instead of the last epoch's."""
        return None

    def close(self) -> None:
        return None


def hook_name(value: Any, default: str) -> str:
    """A hook's name: lower-case letters, digits and underscores (a folder in a checkpoint)."""
    name = default if value is None else value
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ArgumentError(
            f"a hook's name must be lower-case letters, digits and _ (it names a folder of the "
            f"checkpoint), got {name!r}"
        )
    return name


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
    names = [hook.name for hook in out if hook.name is not None]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ArgumentError(
            f"two hooks are named {twice[0]!r}: their saved state would collide; give each "
            f"its own name (e.g. EarlyStopping(..., name='{twice[0]}_2'))"
        )
    return out


class Checkpoint(Hook):
    """Save the run after every epoch and resume it from the last whole save.

    `target` is a `Checkpointer` (its owner closes it) or a folder (opened here, resuming
    what it holds, closed when `fit` ends). The run's identity (its epoch program as
    lowered for the data, the initial state, the data, the weights, the evaluation and the
    key) is saved and compared on resume: another run is refused naming what differs,
    never resumed. The epoch count is not identity: a finished run asked for more epochs
    trains on, and 5 epochs then 5 more equal 10.
    """

    def __init__(self, target: Any):
        from jaxd2l.core.checkpoint import Checkpointer

        if not isinstance(target, (Checkpointer, str, os.PathLike)):
            raise ArgumentTypeError(
                "checkpoint must be a jaxd2l.core.checkpoint.Checkpointer or a folder path, "
                f"got {type(target).__name__}"
            )
        self.keeps_runs, self.name = True, None
        self.target, self.owned, self.identity = target, not isinstance(target, Checkpointer), None
        self.checkpointer = None

    def _open(self):
        if self.checkpointer is None:
            from jaxd2l.core.checkpoint import Checkpointer

            if self.owned:
                self.checkpointer = Checkpointer(os.fspath(self.target), flags={}, resume=True)
            else:
                self.checkpointer = self.target
        return self.checkpointer

    def resume(self, state, identity, carries):
        self.identity = identity
        found = self._open().restore_run(state, carries, identity)
        if found is None:
            return None
        restored, meta = found
        return Resumed(restored.pop("state"), list(meta["history"]), restored)

    def save(self, state, history, stopped, carries) -> None:
        epoch = int(jax.device_get(state.epoch))
        self._open().save(
            epoch,
            state,
            state.key,
            history,
            carries=carries,
            identity=self.identity,
            stopped=stopped,
        )

    def close(self) -> None:
        if self.owned and self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None


class EarlyStopping(Hook):
    """d2l-en 5.5: stop after `patience` epochs without improving `monitor`, a key of the
    epoch's record such as "validation_acc" (higher is better unless `mode="min"`), keeping
    the best epoch's parameters (`best_params`, `best_epoch`). A hook of `fit`: it raises
    `StopTraining`, `fit` returns the best epoch's parameters (`restore_best`, Keras'
    `restore_best_weights`) and names that epoch, and with a `Checkpoint` its best
    parameters are saved under `name` and a resume picks up where it was."""

    def __init__(
        self,
        patience: int,
        monitor: str,
        mode: str = "max",
        *,
        restore_best: bool = True,
        name: str | None = None,
    ):
        from jaxd2l import checks

        self.patience = checks.integer(patience, "patience", minimum=1)
        if not isinstance(monitor, str) or not monitor:
            raise ArgumentTypeError(
                "monitor must name a key of the epoch's record, e.g. 'validation_acc' or "
                f"'validation_loss' (with mode='min'), got {monitor!r}"
            )
        self.monitor = monitor
        self.mode = checks.choice(mode, ("max", "min"), "mode")
        self.restore_best = bool(restore_best)
        self.name = hook_name(name, "early_stopping")
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_params: Any = None
        self.waited = 0

    def update(self, record: Record, params: Any) -> bool:
        """Take one epoch's record and parameters; True when the run should stop."""
        if self.monitor not in record:
            known = ", ".join(k for k in record if k != "epoch")
            raise ArgumentError(
                f"early stopping monitors {self.monitor!r}, which the records lack (they hold "
                f"{known}): pass evaluate= and validation= to fit, or monitor one of those"
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

    def kept(self) -> tuple[int, Any] | None:
        if not self.restore_best or self.best_params is None:
            return None
        return self.best_epoch, self.best_params
