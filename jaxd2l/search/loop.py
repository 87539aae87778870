"""A hyperparameter search as a loop over groups of trials, resumable group by group.

Each group (trials sharing shapes) trains as one vmapped program (`train_group`).
After every group the rows so far and the best trial's parameters can be saved
(`checkpoint`), so a killed search resumes after its last finished group with the same
rows as a search never interrupted. A diverged trial never wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxd2l.core import history
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.keys import RunKeys
from jaxd2l.models import mlp
from jaxd2l.search.trials import Trial, TrialParallel, group_trials, train_group

Row = dict[str, Any]


class SearchResult(NamedTuple):
    """What a search returns."""

    rows: list[Row]
    """One per trial: its hyperparameters, val_acc, val_loss, train_loss, diverged."""
    best: Row
    """The row with the best validation accuracy (a diverged trial never wins)."""
    best_params: Any
    """The best trial's trained parameters."""
    groups: dict[tuple[int, int], list[Trial]]
    """The trials by the shapes they compiled to, (hidden, batch_size)."""


def selection_score(row: Row) -> float:
    """Validation accuracy; a diverged trial (NaN) never wins."""
    acc = row["val_acc"]
    return acc if acc is not None and np.isfinite(acc) else -np.inf


def params_shapes(hidden: int) -> Any:
    """The structure of a trial's params (784-hidden-10, or 784-10 for hidden 0)."""
    sizes = (784, hidden, 10) if hidden else (784, 10)
    return jax.eval_shape(lambda: mlp.init(jax.random.key(0), sizes))


def _best(meta: dict) -> Row:
    return max(meta["history"], key=selection_score)


def restore_search(checkpoint: Checkpointer | None, root: jax.Array):
    """(rows, (best row, best params)) saved after the last finished group or round of a
    search, or ([], None)."""
    found = None
    if checkpoint is not None:
        found = checkpoint.restore_with(lambda meta: params_shapes(_best(meta)["hidden"]), root)
    if found is None:
        return [], None
    best_params, meta = found
    rows = meta["history"]
    best_row = _best(meta)
    print(f"resumed from {checkpoint.directory}: {len(rows)} trials done", flush=True)
    return rows, (best_row, best_params)


def group_rows(trials: Sequence[Trial], out: dict[str, Any], **extra: Any) -> list[Row]:
    """One row per trial of a trained group (`train_group`'s output): `extra`, its
    hyperparameters, val_acc (NaN when diverged), val_loss, train_loss, diverged."""
    rows = []
    for i, trial in enumerate(trials):
        diverged = out["diverged"][i]
        rows.append(
            {
                **extra,
                **trial._asdict(),
                "val_acc": out["val_acc"][i] if not diverged else float("nan"),
                "val_loss": out["val_loss"][i],
                "train_loss": out["train_loss"][i],
                "diverged": diverged,
            }
        )
    return rows


def keep_best(best, rows: Sequence[Row], params: Any):
    """(best row, its params) after a group: `rows` as `group_rows` made them, `params`
    the group's stacked parameters."""
    for i, row in enumerate(rows):
        if best is None or selection_score(row) > selection_score(best[0]):
            best = (row, jax.tree.map(lambda p, i=i: p[i], params))
    return best


def finish_search(rows, best, epochs: int, groups, flags: str) -> SearchResult:
    """The result; raises `DivergedError` (naming `flags` to change) when every trial
    diverged."""
    best_row, best_params = best
    if not np.isfinite(selection_score(best_row)):
        diverged = {f"trial {i}": not np.isfinite(selection_score(r)) for i, r in enumerate(rows)}
        fix = f"lower the learning rates ({flags})"
        history.check_members(diverged, "trials", fix, rows, every="every trial")
    return SearchResult(rows, best_row, best_params, groups)


def run_search(
    trials: Sequence[Trial],
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    *,
    epochs: int,
    keys: RunKeys,
    parallel: TrialParallel | None = None,
    checkpoint: Checkpointer | None = None,
    on_group: Callable[[list[Row], dict[str, Any]], None] | None = None,
) -> SearchResult:
    """Train every group of `trials` (group (hidden, batch) from `keys.group_key(hidden,
    batch)`), select on `val`. `on_group(rows, out)` sees the rows after each group and
    that group's `train_group` output (it is not called for groups restored from
    `checkpoint`). Raises `DivergedError` when every trial diverged."""
    rows, best = restore_search(checkpoint, keys.root)
    groups = group_trials(trials)
    for (hidden, batch_size), group in groups.items():
        if any((r["hidden"], r["batch_size"]) == (hidden, batch_size) for r in rows):
            continue  # finished before the search was resumed
        out = train_group(
            group,
            train,
            val,
            epochs=epochs,
            key=keys.group_key(hidden, batch_size),
            parallel=parallel,
        )
        new_rows = group_rows(group, out)
        rows.extend(new_rows)
        best = keep_best(best, new_rows, out["params"])
        if checkpoint is not None:
            checkpoint.save(len(rows), best[1], keys.root, rows)
        if on_group is not None:
            on_group(rows, out)
    return finish_search(rows, best, epochs, groups, "`lrs` or `lr_range`")


def best_so_far(rows: Sequence[Row]) -> list[float]:
    """The best validation accuracy after each trial, in the order the trials were run (a
    diverged trial counts as spent); the curve on which search strategies are compared."""
    scores = np.maximum.accumulate([selection_score(r) for r in rows])
    return [float(s) if np.isfinite(s) else float("nan") for s in scores]
