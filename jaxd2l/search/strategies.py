"""The course note's search strategies from plain arguments: grid, random or Bayesian search
by name over one search space, the Bayesian study kept in a SQLite file, and the three
strategies compared on one budget over seeds."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxd2l.checks.errors import ArgumentError, UserError
from jaxd2l.core.keys import RunKeys, run_keys
from jaxd2l.search.bayes import SAMPLERS, open_study, run_bayes_search, search_space
from jaxd2l.search.loop import SearchResult, best_so_far, run_search
from jaxd2l.search.trials import Trial, check_lr_range, grid, random_trials

METHODS = ("grid", "random", "bayes")
SQLITE_MAGIC = b"SQLite format 3\x00"
STUDY_FILE = "study.db"


class SearchSettings(NamedTuple):
    """What a search may choose from, and its budget."""

    lrs: Sequence[float]
    """The grid's learning rates."""
    lr_range: tuple[float, float]
    """(low, high): random and Bayesian search draw the learning rate log-uniformly in it."""
    hiddens: Sequence[int]
    """Hidden widths (0: no hidden layer, softmax regression)."""
    batch_sizes: Sequence[int]
    """Batch sizes."""
    epochs: int
    """Epochs per trial."""
    num_trials: int
    """Trials for random and Bayesian search (and the compared budget)."""
    round_size: int = 8
    """Bayesian search: trials asked (and trained as vmapped groups) per round."""
    sampler: str = "tpe"
    """Bayesian search: Optuna's sampler, "tpe" or "gp" (needs PyTorch)."""
    seed: int = 0
    """Bayesian search: the sampler's seed (re-seeded per round from it)."""


def check_settings(settings: SearchSettings) -> None:
    """Refuse, by name, settings no search can run: a bad `lr_range`, an unknown `sampler`
    or the gp sampler without PyTorch."""
    check_lr_range(settings.lr_range)
    if settings.sampler not in SAMPLERS:
        raise ArgumentError(
            f"`sampler` must be one of {', '.join(SAMPLERS)}, got {settings.sampler!r}"
        )
    if settings.sampler == "gp" and importlib.util.find_spec("torch") is None:
        raise ArgumentError(
            "`sampler` gp needs PyTorch (Optuna's GPSampler): install torch or use tpe"
        )


def study_storage(checkpoint_dir: str | None, resume: bool) -> str | None:
    """Optuna's SQLite URL for a study kept in checkpoint_dir/study.db (None without a
    folder: in memory). A fresh search starts a new file (the study of an unfinished first
    round goes); a resumed one reopens it after checking it is a SQLite database."""
    if checkpoint_dir is None:
        return None
    path = os.path.join(checkpoint_dir, STUDY_FILE)
    if not resume:
        if os.path.exists(path):
            os.remove(path)
    elif os.path.exists(path):
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise UserError(
                f"{path} is not a SQLite database (damaged?): the study cannot be resumed; "
                "start the search anew in another checkpoint_dir (or delete the file)"
            )
    return f"sqlite:///{os.path.abspath(path)}"


def search(
    method: str,
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    settings: SearchSettings,
    *,
    keys: RunKeys,
    trials: Sequence[Trial] | None = None,
    parallel: Any = None,
    checkpoint: Any = None,
    study: str | None = None,
    on_round: Callable[[list[dict[str, Any]]], None] | None = None,
) -> SearchResult:
    """One search by `method` within `settings`.

    Args:
      method: "grid" (every lr x hidden x batch size), "random" (`num_trials` drawn with
        `keys.trials`) or "bayes" (Optuna, `round_size` trials asked per round).
      train, val: the training and validation pairs (uint8 images, labels).
      settings: the `SearchSettings`.
      keys: the run's named keys.
      trials: trials to run instead of the method's own (grid and random only).
      parallel, checkpoint: a `TrialParallel` and a `Checkpointer` (resumable searches).
      study: Bayesian search's Optuna storage URL (`study_storage`), None in memory.
      on_round: called with every row so far after each group or round.

    Returns:
      `SearchResult`: the rows, the best row and its parameters, the groups.
    """
    if method not in METHODS:
        raise ArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    check_settings(settings)
    s = settings
    if method == "bayes":
        return run_bayes_search(
            open_study(study),
            search_space(s.lr_range, s.hiddens, s.batch_sizes),
            train,
            val,
            num_trials=s.num_trials,
            round_size=s.round_size,
            epochs=s.epochs,
            keys=keys,
            seed=s.seed,
            sampler=s.sampler,
            parallel=parallel,
            checkpoint=checkpoint,
            on_round=on_round,
        )
    if trials is None and method == "grid":
        trials = grid(s.lrs, s.hiddens, s.batch_sizes)
    elif trials is None:
        trials = random_trials(keys.trials, s.num_trials, s.lr_range, s.hiddens, s.batch_sizes)
    return run_search(
        trials,
        train,
        val,
        epochs=s.epochs,
        keys=keys,
        parallel=parallel,
        checkpoint=checkpoint,
        on_group=lambda rows, out: on_round and on_round(rows),
    )


def budget_grid(key: jax.Array, settings: SearchSettings) -> list[Trial]:
    """`num_trials` grid points: `lr_range` split geometrically for each hidden width, at the
    first batch size, in a random order drawn from `key`."""
    lo, hi = settings.lr_range
    lrs = np.geomspace(lo, hi, settings.num_trials // len(settings.hiddens)).tolist()
    trials = grid(lrs, settings.hiddens, settings.batch_sizes[:1])
    order = np.asarray(jax.random.permutation(key, len(trials)))
    return [trials[i] for i in order]


def compare_strategies(
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    settings: SearchSettings,
    seeds: Sequence[int],
    on_search: Callable[[str, int, list[float]], None] | None = None,
) -> dict[str, list[list[float]]]:
    """Grid, random and Bayesian search on one budget (`num_trials` trials of `epochs`
    epochs) for each seed: the trials' keys from each seed, the grid `budget_grid` in a
    random order per seed, the Bayesian sampler seeded with `settings.seed`.

    Returns:
      {method: one best-so-far validation accuracy curve per seed}.
    """
    curves: dict[str, list[list[float]]] = {}
    for method in METHODS:
        curves[method] = []
        for seed in seeds:
            keys = run_keys(seed)
            trials = budget_grid(keys.trials, settings) if method == "grid" else None
            result = search(method, train, val, settings, keys=keys, trials=trials)
            curves[method].append(best_so_far(result.rows))
            if on_search is not None:
                on_search(method, seed, curves[method][-1])
    return curves


def summarize_strategies(curves: dict[str, list[list[float]]]) -> dict[str, dict[str, Any]]:
    """Each strategy's best validation accuracy per seed, their median, and the curves."""
    return {
        method: {
            "best_val_acc": [r[-1] for r in runs],
            "median_best_val_acc": float(np.median([r[-1] for r in runs])),
            "curves": runs,
        }
        for method, runs in curves.items()
    }
