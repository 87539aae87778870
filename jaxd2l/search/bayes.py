"""Bayesian hyperparameter search (the course note's fourth strategy) with Optuna, in rounds.

Each round asks the study for `round_size` trials, trains those that share shapes as one
vmapped program (`train_group`) and tells the study their validation accuracy; a
diverged trial is told as failed, so it never wins and the sampler learns to avoid it.

Resume: the study lives in Optuna's own storage (pass a SQLite URL, e.g. a file in the
run folder). A killed search reopens it: trials told stay told, trials asked but never
told are trained again with the same keys, and the sampler is seeded per round from
(seed, round), so the resumed search asks exactly the trials an uninterrupted one would.
The best trial's parameters are saved with our `Checkpointer` after every round, as the
grid search does, so the test accuracy needs no retraining.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jaxd2l.checks.errors import ArgumentError, UserError
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.keys import RunKeys
from jaxd2l.search.loop import (
    Row,
    SearchResult,
    finish_search,
    group_rows,
    keep_best,
    restore_search,
)
from jaxd2l.search.trials import Trial, TrialParallel, group_trials, train_group

SAMPLERS = ("tpe", "gp")


def _optuna():
    import optuna  # imported on use: the other searches and `import jaxd2l` never need it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def search_space(
    lr_range: tuple[float, float], hiddens: Sequence[int], batch_sizes: Sequence[int]
) -> dict[str, Any]:
    """Optuna distributions: lr log-uniform in `lr_range`, widths and batch sizes categorical."""
    lo, hi = lr_range
    if not 0 < lo < hi:
        raise ArgumentError(f"lr_range needs 0 < LOW < HIGH, got {lr_range}")
    dist = _optuna().distributions
    return {
        "lr": dist.FloatDistribution(lo, hi, log=True),
        "hidden": dist.CategoricalDistribution(tuple(int(h) for h in hiddens)),
        "batch_size": dist.CategoricalDistribution(tuple(int(b) for b in batch_sizes)),
    }


def make_sampler(name: str, seed: int, round_index: int, startup_trials: int):
    """TPE (`constant_liar`, so trials asked together spread out) or a Gaussian process
    (needs PyTorch), seeded from (seed, round)."""
    samplers = _optuna().samplers
    round_seed = int(np.random.SeedSequence([seed, round_index]).generate_state(1)[0])
    if name == "tpe":
        return samplers.TPESampler(
            seed=round_seed,
            n_startup_trials=startup_trials,
            multivariate=True,
            constant_liar=True,
        )
    if name == "gp":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ArgumentError(
                "the gp sampler needs PyTorch (Optuna's GPSampler); install torch or use tpe"
            ) from None
        return samplers.GPSampler(seed=round_seed, n_startup_trials=startup_trials)
    raise ArgumentError(f"unknown sampler {name!r}: use one of {', '.join(SAMPLERS)}")


def open_study(storage: str | None, name: str = "hparam_search"):
    """A maximising study, in memory (storage None) or reopened from `storage`."""
    optuna = _optuna()
    try:
        return optuna.create_study(
            study_name=name, storage=storage, direction="maximize", load_if_exists=True
        )
    except Exception as e:  # sqlalchemy's and optuna's storage errors alike
        if storage is None:
            raise
        raise UserError(
            f"cannot open the study in {storage} ({type(e).__name__}: {str(e).splitlines()[0]}):"
            " start the search anew in another checkpoint_dir (or delete the file)"
        ) from None


def _trial_of(params: dict[str, Any]) -> Trial:
    return Trial(float(params["lr"]), int(params["hidden"]), int(params["batch_size"]))


def run_bayes_search(
    study: Any,
    space: dict[str, Any],
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    *,
    num_trials: int,
    round_size: int,
    epochs: int,
    keys: RunKeys,
    seed: int,
    sampler: str = "tpe",
    parallel: TrialParallel | None = None,
    checkpoint: Checkpointer | None = None,
    on_round: Callable[[list[Row]], None] | None = None,
) -> SearchResult:
    """Ask `num_trials` trials of `study` in rounds of `round_size`; group g of round r
    trains with `keys.group_key(r, hidden, batch)`. Rows carry Optuna's trial `number`
    and `round`. Raises `DivergedError` when every trial diverged."""
    if num_trials < 1 or round_size < 1:
        raise ArgumentError(
            f"num_trials and round_size must be >= 1, got {num_trials} and {round_size}"
        )
    optuna = _optuna()
    state = optuna.trial.TrialState
    rows, best = restore_search(checkpoint, keys.root)
    saved = {r["number"]: r for r in rows}
    for r in range(math.ceil(num_trials / round_size)):
        want = min(round_size, num_trials - r * round_size)
        asked = [
            (t.number, t.params)
            for t in study.get_trials(deepcopy=False)
            if t.user_attrs.get("round") == r
        ]
        if len(asked) >= want and all(number in saved for number, _ in asked):
            _tell_untold(study, asked, saved, state)  # a kill between save and tell
            continue  # this round finished before the search was resumed
        study.sampler = make_sampler(sampler, seed, r, startup_trials=round_size)
        while len(asked) < want:
            t = study.ask(space)
            t.set_user_attr("round", r)
            asked.append((t.number, t.params))
        trials = {number: _trial_of(p) for number, p in asked if number not in saved}
        new_rows = []
        for (hidden, batch), group in group_trials(list(trials.values())).items():
            numbers = [n for n, t in trials.items() if (t.hidden, t.batch_size) == (hidden, batch)]
            out = train_group(
                group,
                train,
                val,
                epochs=epochs,
                key=keys.group_key(r, hidden, batch),
                parallel=parallel,
            )
            group_new = [
                {"number": number, "round": r, **row}
                for number, row in zip(numbers, group_rows(group, out), strict=True)
            ]
            best = keep_best(best, group_new, out["params"])
            new_rows += group_new
        rows = sorted(rows + new_rows, key=lambda row: row["number"])
        saved.update((row["number"], row) for row in new_rows)
        if checkpoint is not None:
            checkpoint.save(len(rows), best[1], keys.root, rows)
        _tell_untold(study, asked, saved, state)
        if on_round is not None:
            on_round(rows)
    return finish_search(rows, best, epochs, {}, "`lr_range`")


def _tell_untold(study: Any, asked: list, saved: dict[int, Row], state: Any) -> None:
    """Tell the study each asked trial's result that it has not been told yet."""
    running = {t.number for t in study.get_trials(deepcopy=False, states=(state.RUNNING,))}
    for number, _ in asked:
        if number in running:
            row = saved[number]
            if row["diverged"] or not np.isfinite(row["val_acc"]):
                study.tell(number, state=state.FAIL)
            else:
                study.tell(number, float(row["val_acc"]))
