"""Checkpoints of a training run with orbax-checkpoint: atomic, no pickles, exact resume.

A checkpoint after epoch e holds what makes epoch e + 1 exact: the train state with its key
(epoch e shuffles with `fold_in(key, e)`: no RNG stream is saved), the history so far, the
run's identity (`core.arguments.run_identity`), the flags it was started with, and each
hook's carry as an item of its own, under the hook's name. The state is restored into the
structure of a fresh one, so optax's NamedTuples and typed keys come back as they were.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxd2l.checks.errors import ArgumentError, UserError
from jaxd2l.checks.files import FolderLock, first_line, signals_held
from jaxd2l.core.arguments import identity_differences


class CheckpointError(UserError):
    """A checkpoint folder that cannot be used as asked (flags differ, no `resume`, ...)."""


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    keys = sorted(set(saved) | set(now))
    return [
        f"{k}: checkpoint {saved.get(k)!r}, now {now.get(k)!r}"
        for k in keys
        if saved.get(k) != now.get(k)
    ]


def shapes_of(tree: Any) -> dict[str, list]:
    """{leaf path: [shape, dtype]} of a state: what identifies the model it belongs to."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {
        jax.tree_util.keystr(path): [list(jax.numpy.shape(leaf)), str(jax.numpy.result_type(leaf))]
        for path, leaf in flat
    }


class Checkpointer:
    """Saves a run every epoch under `directory`, keeping the last `keep`, the folder locked
    against another process while open (`checks.files.FolderLock`). `flags` (JSON-able; None
    compares none) identify the run: other flags are refused by name, as another model is
    (its shapes) before any array is read. Without `resume`, a folder that holds a
    checkpoint is refused rather than overwritten; with it and none, the run starts afresh.
    """

    def __init__(
        self,
        directory: str,
        *,
        flags: dict[str, Any] | None,
        resume: bool = False,
        keep: int = 3,
    ):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = os.path.abspath(directory)
        # tuples as lists, as read back; None: a reader that checks no flags (inspection)
        self.flags = json.loads(json.dumps(flags)) if flags is not None else None
        self.resume = resume
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise CheckpointError(f"checkpoint_dir {directory} is a file, not a folder")
        try:
            options = ocp.CheckpointManagerOptions(
                max_to_keep=keep, enable_async_checkpointing=False, create=True
            )
            with signals_held():
                self.manager = ocp.CheckpointManager(self.directory, options=options)
        except OSError as e:
            raise CheckpointError(f"cannot use checkpoint_dir {directory}: {e}") from None
        latest = self.manager.latest_step()
        if latest is not None and not resume:
            raise CheckpointError(
                f"{directory} already holds a checkpoint after epoch {latest}: pass `resume` to "
                "continue that run, or choose another checkpoint_dir"
            )
        self.lock = FolderLock(self.directory, "checkpoint_dir")
        if jax.process_index() == 0:  # the one process that writes
            self.lock.acquire()

    def _read_meta(self, step: int) -> dict[str, Any]:
        ocp = self._ocp
        with signals_held():
            meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
        meta = meta["meta"]
        if not isinstance(meta, dict) or not {"next_epoch", "history", "flags"} <= set(meta):
            raise ArgumentError("its metadata is incomplete")
        return meta

    def _read_state(self, step: int, target: Any, key: jax.Array, extra: dict) -> Any:
        ocp = self._ocp

        def restore(tree):
            return ocp.args.StandardRestore(jax.tree.map(ocp.utils.to_shape_dtype_struct, tree))

        items = {f"hook_{name}": restore(tree) for name, tree in extra.items()}
        args = ocp.args.Composite(state=restore({"state": target, "key": key}), **items)
        with signals_held():
            restored = self.manager.restore(step, args=args)
        return restored["state"], {name: restored[f"hook_{name}"] for name in extra}

    def _check(self, meta: dict[str, Any], target: Any, identity: dict | None = None) -> None:
        """Refuse, by name and before orbax reads arrays, a checkpoint of another run (other
        flags, or another identity: program, start, data, weights, evaluation, key) or of
        another model (other shapes)."""
        diff = _differences(meta["flags"], self.flags) if self.flags is not None else []
        if diff:
            raise CheckpointError(
                f"`resume` with other flags than the checkpoint in {self.directory} was made "
                f"with ({'; '.join(diff)}): rerun with the same flags, or use a new "
                "checkpoint_dir"
            )
        if identity is not None:
            differs = identity_differences(meta.get("identity"), identity)
            if differs:
                raise CheckpointError(
                    f"the checkpoint in {self.directory} is of another run: {differs}; a "
                    "different run is never resumed: use a new checkpoint_dir (one per fold "
                    "or setting), or the settings it was made with"
                )
        saved, now = meta.get("shapes"), shapes_of(target)
        if saved is not None and saved != now:
            diff = _differences(saved, now)
            raise CheckpointError(
                f"the checkpoint in {self.directory} is of another model ({'; '.join(diff[:3])}"
                f"{'; ...' if len(diff) > 3 else ''}): use a new checkpoint_dir"
            )

    def restore_run(self, state: Any, carries: dict[str, Any], identity: dict[str, Any] | None):
        """((state, {hook name: carry}), meta) of `fit`'s newest whole checkpoint, the
        carries restored for the hooks of `carries` that saved one (a hook added or removed
        since changes nothing else); None when there is nothing to resume."""

        def extra(meta):
            return {n: carries[n] for n in meta.get("hooks", []) if n in carries}

        return self.restore_with(lambda meta: state, state.key, identity, extra)

    def restore_with(
        self,
        target_of: Callable[[dict[str, Any]], Any],
        key: jax.Array,
        identity: dict[str, Any] | None = None,
        extra_of: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> tuple[Any, dict[str, Any]] | None:
        """(state, meta) from the newest whole checkpoint, the state restored into the
        structure `target_of(meta)` gives; None when not resuming or nothing was saved. With
        `extra_of`, the first element is (state, {name: item}) for the items it asks for.

        A damaged step (a truncated or missing file, an emptied folder) is skipped with a
        one-line warning and the one before it tried; when none is whole, a CheckpointError
        says so. Other flags, identity, model or key are refused by name (not damage)."""
        steps = sorted(self.manager.all_steps(), reverse=True) if self.resume else []
        damaged = []
        for step in steps:
            try:
                meta = self._read_meta(step)
                target = target_of(meta)
                self._check(meta, target, identity)
                extra = extra_of(meta) if extra_of is not None else {}
                restored, items = self._read_state(step, target, key, extra)
            except CheckpointError:
                raise
            except Exception as e:  # orbax, json and tensorstore errors alike: damage
                reason = first_line(e)
                damaged.append(f"epoch {step}: {reason}")
                print(
                    f"warning: the checkpoint after epoch {step} in {self.directory} is "
                    f"damaged ({reason}); trying the one before",
                    file=sys.stderr,
                    flush=True,
                )
                continue
            same = jax.random.key_data(restored["key"]) == jax.random.key_data(key)
            if not bool(same.all()):
                raise CheckpointError(
                    f"the checkpoint in {self.directory} was made with another root key (seed)"
                )
            if extra_of is not None:
                return (restored["state"], items), meta
            return restored["state"], meta
        if damaged:
            raise CheckpointError(
                f"no whole checkpoint in {self.directory} ({'; '.join(damaged)}): start again "
                "with a new checkpoint_dir"
            )
        return None

    def restore(self, target: Any, key: jax.Array) -> tuple[Any, int, list[dict]] | None:
        """(tree, next epoch index, history) from the newest whole checkpoint, restored into
        the structure of `target`; None when there is nothing to resume."""
        found = self.restore_with(lambda meta: target, key)
        if found is None:
            return None
        restored, meta = found
        return restored, int(meta["next_epoch"]), list(meta["history"])

    def save(
        self,
        next_epoch: int,
        state: Any,
        key: jax.Array,
        history: list[dict],
        *,
        carries: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
        stopped: bool = False,
        untrained: Any = None,
    ) -> None:
        """Save after an epoch (`next_epoch` runs next) with the root `key` a resume is
        checked against, the hooks' `carries` by name, the run's `identity`, whether a hook
        `stopped` it and the divergence rule's `untrained` reference. A Ctrl-C or SIGTERM
        during the save is held until the save is whole."""
        ocp = self._ocp
        carries = carries or {}
        meta = {
            "next_epoch": next_epoch,
            "history": history,
            "flags": self.flags,
            "shapes": shapes_of(state),
            "identity": identity,
            "hooks": sorted(carries),
            "stopped": bool(stopped),
            "untrained": None if untrained is None else np.asarray(untrained).tolist(),
        }
        items = {f"hook_{name}": ocp.args.StandardSave(v) for name, v in carries.items()}
        with signals_held():
            self.manager.save(
                next_epoch,
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave({"state": state, "key": key}),
                    meta=ocp.args.JsonSave(meta),
                    **items,
                ),
            )

    def close(self) -> None:
        with signals_held():
            self.manager.close()
        self.lock.release()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
