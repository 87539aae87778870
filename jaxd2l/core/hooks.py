"""What `fit` runs around its epochs: hooks (nanodo's hooks, CLU's periodic actions).

A hook is a value with four moments, each a no-op unless overridden: `resume(state,
identity, carries)` before the first epoch (a hook that `keeps_runs`, a `Checkpoint`,
returns what it restored as a `Resumed`); `replay(record)` once per restored epoch;
`after_epoch(state, record)` after each epoch, in the order given (raise `StopTraining` to
end the run after it); `save(state, progress)` once every hook saw the epoch. `carry(state)`
is what a hook keeps across a resume, saved under its `name` (never its position);
`restore_carry(tree)` takes it back; `kept()` offers the parameters `fit` returns. A plain
function `fn(record)` is a hook too (`Callback`); the divergence rule is not a hook.
`jaxd2l.nn.early_stopping.EarlyStopping` is a hook that keeps state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import jax

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError

Record = dict[str, Any]
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class StopTraining(Exception):
    """Raised by a hook or callback to end the run cleanly after this epoch: its record is
    in the history, `fit` returns as if it had run to the end (`timing["stopped_early"]`),
    and a resume with the same hook replays the records and stops there again."""


class Progress(NamedTuple):
    """What `save` gets besides the state."""

    records: list[Record]
    """Every epoch's record so far."""
    stopped: bool
    """Whether a hook stopped the run at this epoch."""
    carries: dict[str, Any]
    """The hooks' carries, by name."""
    untrained: Any
    """The divergence rule's reference (the untrained model's first-batch loss)."""


class Resumed(NamedTuple):
    """What a hook restored."""

    state: Any
    """The state to go on from."""
    records: list[Record]
    """The records of the epochs it trained."""
    carries: dict[str, Any]
    """The hooks' carries, by name."""
    untrained: Any
    """The divergence rule's reference."""


class Hook:
    """A hook of `fit` (see the module docstring); subclass and override what you need.
    `name` says where its `carry` is saved: a hook that carries state needs one, unique
    among the run's hooks."""

    name: str | None = None
    keeps_runs = False

    def resume(self, state: Any, identity: dict[str, Any] | None, carries: dict[str, Any]):
        return None

    def replay(self, record: Record) -> None:
        return None

    def after_epoch(self, state: Any, record: Record) -> None:
        return None

    def save(self, state: Any, progress: Progress) -> None:
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


def hook_name(name: Any) -> str:
    """A hook's name: lower-case letters, digits and underscores (a folder in a checkpoint)."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ArgumentError(
            "a hook's name must be lower-case letters, digits and _ (it names a folder of the "
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
    """Hooks as given, plain functions wrapped as `Callback` hooks; two with one name
    refused."""
    if isinstance(hooks, (Hook, str)) or callable(hooks):
        raise ArgumentTypeError("hooks must be a list of hooks or functions: wrap one in [...]")
    out = []
    for i, hook in enumerate(hooks):
        if not isinstance(hook, Hook) and not callable(hook):
            raise ArgumentTypeError(
                f"hooks[{i}] must be a Hook or a function of the epoch's record, got "
                f"{type(hook).__name__}"
            )
        out.append(hook if isinstance(hook, Hook) else Callback(hook))
    names = [hook.name for hook in out if hook.name is not None]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ArgumentError(
            f"two hooks are named {twice[0]!r}: their saved state would collide; give each "
            f"its own name (e.g. EarlyStopping(..., name='{twice[0]}_2'))"
        )
    return out


class Checkpoint(Hook):
    """Save the run after every epoch and resume it from the last whole save, refusing
    another run by what differs in its identity (`core.arguments.run_identity`); `target` is
    a `Checkpointer` (its owner closes it) or a folder (opened and closed here)."""

    keeps_runs = True

    def __init__(self, target: Any):
        from jaxd2l.core.checkpoint import Checkpointer

        if not isinstance(target, (Checkpointer, str, os.PathLike)):
            raise ArgumentTypeError(
                "checkpoint must be a jaxd2l.core.checkpoint.Checkpointer or a folder path, "
                f"got {type(target).__name__}"
            )
        self.target, self.owned = target, not isinstance(target, Checkpointer)
        self.checkpointer, self.identity = None, None

    def _open(self):
        if self.checkpointer is None:
            from jaxd2l.core.checkpoint import Checkpointer

            owned = self.owned
            target = os.fspath(self.target) if owned else self.target
            self.checkpointer = Checkpointer(target, flags={}, resume=True) if owned else target
        return self.checkpointer

    def resume(self, state, identity, carries):
        self.identity = identity
        found = self._open().restore_run(state, carries, identity)
        if found is None:
            return None
        (restored, hooks), meta = found
        return Resumed(restored, list(meta["history"]), hooks, meta.get("untrained"))

    def save(self, state, progress: Progress) -> None:
        epoch = int(jax.device_get(state.epoch))
        self._open().save(
            epoch,
            state,
            state.key,
            progress.records,
            carries=progress.carries,
            identity=self.identity,
            stopped=progress.stopped,
            untrained=progress.untrained,
        )

    def close(self) -> None:
        if self.owned and self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None
