"""Checkpoints of a training run with orbax-checkpoint: atomic, no pickles, exact resume.

A checkpoint after epoch e holds what makes epoch e + 1 exact: the train state (params and
optimizer state), the root PRNG key (epoch e shuffles with `fold_in(key, e)`, so no RNG
stream needs saving), the next epoch number, the history so far and the flags the run was
started with. The state is restored into the structure of a fresh state, so optax's
NamedTuple states come back as NamedTuples and typed keys bit for bit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import jax

from jaxd2l.errors import UserError


class CheckpointError(UserError):
    """A checkpoint folder that cannot be used as asked (flags differ, no --resume, ...)."""


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    keys = sorted(set(saved) | set(now))
    return [
        f"{k}: checkpoint {saved.get(k)!r}, now {now.get(k)!r}"
        for k in keys
        if saved.get(k) != now.get(k)
    ]


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then deliver the first one.

    orbax writes with an event loop and worker threads: a KeyboardInterrupt raised inside
    them leaves a half-made checkpoint, never-awaited coroutines and threads still running
    at exit (which can abort the interpreter). Held, a stop lands between epochs instead,
    and the checkpoint it leaves is whole. Only the main thread can hold signals; elsewhere
    this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum, frame):
        held.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if held:
            signal.raise_signal(held[0])


class Checkpointer:
    """Saves a run every epoch under `directory`, keeping the last `keep`.

    `flags` (JSON-able, e.g. an experiment's config without its output and checkpoint
    flags) identify the run: resuming with other flags is refused, naming the difference.
    Without `resume`, a folder that already holds a checkpoint is refused rather than
    overwritten; with `resume` and no checkpoint, the run starts from epoch 1.
    """

    def __init__(
        self, directory: str, *, flags: dict[str, Any], resume: bool = False, keep: int = 3
    ):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = os.path.abspath(directory)
        self.flags = json.loads(json.dumps(flags))  # tuples as lists, as read back
        self.resume = resume
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise CheckpointError(f"--checkpoint-dir {directory} is a file, not a folder")
        try:
            options = ocp.CheckpointManagerOptions(
                max_to_keep=keep, enable_async_checkpointing=False, create=True
            )
            with _signals_held():
                self.manager = ocp.CheckpointManager(self.directory, options=options)
        except OSError as e:
            raise CheckpointError(f"cannot use --checkpoint-dir {directory}: {e}") from None
        latest = self.manager.latest_step()
        if latest is not None and not resume:
            raise CheckpointError(
                f"{directory} already holds a checkpoint after epoch {latest}: pass --resume to "
                "continue that run, or choose another --checkpoint-dir"
            )

    def latest_epoch(self) -> int | None:
        return self.manager.latest_step()

    def restore_meta(self) -> dict[str, Any] | None:
        """The latest checkpoint's `next_epoch`, `history` and `flags` (checked against this
        run's flags); None when not resuming or nothing was saved."""
        step = self.manager.latest_step() if self.resume else None
        if step is None:
            return None
        ocp = self._ocp
        args = ocp.args.Composite(meta=ocp.args.JsonRestore())
        with _signals_held():
            meta = self.manager.restore(step, args=args)["meta"]
        diff = _differences(meta["flags"], self.flags)
        if diff:
            raise CheckpointError(
                f"--resume with other flags than the checkpoint in {self.directory} was made "
                f"with ({'; '.join(diff)}): rerun with the same flags, or use a new "
                "--checkpoint-dir"
            )
        return meta

    def restore_state(self, state: Any, key: jax.Array) -> Any:
        """The latest saved state, restored into the structure, dtypes and placement of
        `state` (arrays or `jax.ShapeDtypeStruct` leaves); the saved key must equal `key`."""
        ocp = self._ocp
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct, {"state": state, "key": key})
        args = ocp.args.Composite(state=ocp.args.StandardRestore(target))
        with _signals_held():
            restored = self.manager.restore(self.manager.latest_step(), args=args)["state"]
        if not bool((jax.random.key_data(restored["key"]) == jax.random.key_data(key)).all()):
            raise CheckpointError(
                f"the checkpoint in {self.directory} was made with another root key (seed)"
            )
        return restored["state"]

    def restore(self, state: Any, key: jax.Array) -> tuple[Any, int, list[dict[str, Any]]] | None:
        """(state, next epoch index, history) from the latest checkpoint, placed like
        `state`; None when there is nothing to resume."""
        meta = self.restore_meta()
        if meta is None:
            return None
        return self.restore_state(state, key), int(meta["next_epoch"]), list(meta["history"])

    def save(self, next_epoch: int, state: Any, key: jax.Array, history: list[dict]) -> None:
        """Save after an epoch: `next_epoch` is the index of the epoch to run next. A Ctrl-C
        or SIGTERM that comes during the save is held until the save is whole."""
        ocp = self._ocp
        meta = {"next_epoch": next_epoch, "history": history, "flags": self.flags}
        with _signals_held():
            self.manager.save(
                next_epoch,
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave({"state": state, "key": key}),
                    meta=ocp.args.JsonSave(meta),
                ),
            )

    def close(self) -> None:
        with _signals_held():
            self.manager.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
