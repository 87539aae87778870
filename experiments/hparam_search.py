"""d2l 4.2 exercise 2 and the course note's four strategies: grid, random or Bayesian search
over learning rate, hidden width and batch size, or all three compared on one budget.

    python -m experiments.hparam_search --method grid|random|bayes|compare [--trials N]
        [--model mlp|softmax] [--lrs 0.03,0.1,0.3] [--lr-range 0.01,1] [--hidden 64,256]
        [--batch-sizes 256] [--epochs 3] [--round-size 8] [--sampler tpe|gp] [--seeds 3]

`--method bayes` asks Optuna (TPE) for `--round-size` trials at a time and trains those that
share shapes as one vmapped program; with --checkpoint-dir the study is kept in
DIR/study.db (Optuna's SQLite storage) beside our checkpoint of the best parameters, so
`--resume` continues it. `--method compare` runs grid, random and Bayesian search on the
same budget (--trials trials of --epochs epochs; the grid spreads --trials over --lr-range
and --hidden, in a random order per seed) for --seeds seeds and draws the best validation
accuracy against trials spent (strategies.png).

Selection uses a validation split (--val-size examples) carved from the training set; the
test set only reports the chosen configuration. Trials sharing hidden width and batch
size train together: one compiled program, the step vmapped over learning rates. The run
also times that group against one of its trials alone (`vmap_speed`). Writes
DIR/metrics.json (default runs/hparam_search/<method>), DIR/trials.csv and DIR/trials.png.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import time

import jax
import numpy as np

from jaxd2l.core.errors import FlagError
from jaxd2l.core.keys import run_keys
from jaxd2l.core.parallel import TrialParallel
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.experiment import (
    DataFlags,
    Run,
    TrainingFlags,
    flag,
    run_cli,
    training_setup,
    write_csv,
)
from jaxd2l.plot import search_figures
from jaxd2l.search.bayes import SAMPLERS, open_study, run_bayes_search, search_space
from jaxd2l.search.loop import best_so_far, run_search
from jaxd2l.search.trials import (
    Trial,
    accuracy_on,
    grid,
    group_trials,
    random_trials,
    validation_split,
    vmap_speed,
)


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    method: str = flag(
        "grid",
        "search method (compare: all three on one budget)",
        choices=("grid", "random", "bayes", "compare"),
    )
    model: str = flag(
        "mlp", "mlp (one hidden layer) or softmax (no hidden layer)", choices=("mlp", "softmax")
    )
    trials: int = flag(8, "random, bayes, compare: number of trials", min=1, max=4096)
    lrs: tuple[float, ...] = flag((0.03, 0.1, 0.3), "grid: learning rates", gt=0)
    lr_range: tuple[float, ...] = flag(
        (0.01, 1.0), "random, bayes, compare: log-uniform lr range", gt=0
    )
    hidden: tuple[int, ...] = flag((64, 256), "hidden widths to try (mlp)", min=1, max=65536)
    batch_sizes: tuple[int, ...] = flag((256,), "batch sizes to try", min=1, max=2**24)
    epochs: int = flag(3, "epochs per trial", min=1)
    val_size: int = flag(10000, "validation examples held out of the training set", min=1)
    round_size: int = flag(8, "bayes: trials asked (and vmapped) per round", min=1, max=4096)
    sampler: str = flag("tpe", "bayes: Optuna's sampler (gp needs PyTorch)", choices=SAMPLERS)
    seeds: int = flag(3, "compare: seeds per strategy", min=1, max=64)

    @property
    def hiddens(self) -> tuple[int, ...]:
        """The widths searched: --hidden for the MLP, 0 (no hidden layer) for softmax."""
        return self.hidden if self.model == "mlp" else (0,)

    def check(self) -> None:
        super().check()
        if len(self.lr_range) != 2 or self.lr_range[0] >= self.lr_range[1]:
            raise FlagError(f"--lr-range needs LOW,HIGH with LOW < HIGH, got {self.lr_range}")
        if self.sampler == "gp" and importlib.util.find_spec("torch") is None:
            raise FlagError(
                "--sampler gp needs PyTorch (Optuna's GPSampler): install torch or use tpe"
            )
        if self.method == "compare":
            self.refuse_fit_flags("--method compare runs its searches in memory")
            if self.trials < len(self.hiddens):
                raise FlagError("--trials must be at least the number of --hidden widths")


def make_trials(config: Config, key, method: str) -> list[Trial]:
    if method == "grid":
        return grid(config.lrs, config.hiddens, config.batch_sizes)
    return random_trials(key, config.trials, config.lr_range, config.hiddens, config.batch_sizes)


def search(
    method, config, keys, train, val, *, trials=None, parallel=None, checkpoint=None, on_round=None
):
    """One search by `method` (grid, random, bayes) over `trials` (default: from the flags);
    `on_round(rows)` after each group or round."""
    if method == "bayes":
        storage = None
        if checkpoint is not None:
            path = os.path.join(config.checkpoint_dir, "study.db")
            if not config.resume and os.path.exists(path):
                os.remove(path)  # a fresh search: the study of an unfinished first round
            storage = f"sqlite:///{os.path.abspath(path)}"
        return run_bayes_search(
            open_study(storage),
            search_space(config.lr_range, config.hiddens, config.batch_sizes),
            train,
            val,
            num_trials=config.trials,
            round_size=config.round_size,
            epochs=config.epochs,
            keys=keys,
            seed=config.seed,
            sampler=config.sampler,
            parallel=parallel,
            checkpoint=checkpoint,
            on_round=on_round,
        )
    if trials is None:
        trials = make_trials(config, keys.trials, method)
    return run_search(
        trials,
        train,
        val,
        epochs=config.epochs,
        keys=keys,
        parallel=parallel,
        checkpoint=checkpoint,
        on_group=lambda rows, out: on_round and on_round(rows),
    )


def strategy_grid(config: Config, key) -> list[Trial]:
    """--trials grid points: --lr-range split geometrically for each --hidden, shuffled."""
    lo, hi = config.lr_range
    lrs = np.geomspace(lo, hi, config.trials // len(config.hiddens)).tolist()
    trials = grid(lrs, config.hiddens, config.batch_sizes[:1])
    order = np.asarray(jax.random.permutation(key, len(trials)))
    return [trials[i] for i in order]


def compare(config: Config, run: Run, train, val) -> dict:
    """Grid, random and Bayesian search on one budget over --seeds seeds."""
    curves = {}
    for label in ("grid", "random", "bayes"):
        runs = []
        for seed in range(config.seed, config.seed + config.seeds):
            keys = run_keys(seed)  # the grid: the budget's points, in a random order per seed
            trials = strategy_grid(config, keys.trials) if label == "grid" else None
            result = search(label, config, keys, train, val, trials=trials)
            runs.append(best_so_far(result.rows))
            if run.primary:
                print(f"{label} seed {seed}: best val acc {runs[-1][-1]:.4f}", flush=True)
        curves[label] = runs
    if run.primary:
        search_figures.save_strategies(curves, run.file("strategies.png"), epochs=config.epochs)
    final = {
        method: {
            "best_val_acc": [r[-1] for r in runs],
            "median_best_val_acc": float(np.median([r[-1] for r in runs])),
            "curves": runs,
        }
        for method, runs in curves.items()
    }
    summary = f"hparam_search compare ({config.trials} trials x {config.epochs} epochs, " + (
        f"{config.seeds} seeds): median best val acc "
        + ", ".join(f"{m} {v['median_best_val_acc']:.4f}" for m, v in final.items())
    )
    return run.finish(final, summary)


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    with Run("hparam_search", config, config.method) as run:
        parallel, checkpoint = training_setup(config)
        parallel = TrialParallel(parallel.mesh) if parallel is not None else None
        (X, y), test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
        try:
            train, val = validation_split(keys.split, X, y, config.val_size)
        except ValueError as e:
            raise FlagError(f"--val-size: {e}") from None
        if config.method == "compare":
            return compare(config, run, train, val)

        def report(rows):  # after every group or round: a failure keeps the rows so far
            if run.primary:
                print(
                    f"{len(rows)} trials: best val acc so far {best_so_far(rows)[-1]:.4f}",
                    flush=True,
                )
                write_csv(rows, run.file("trials.csv"))

        t0 = time.perf_counter()
        with checkpoint or contextlib.nullcontext():
            result = search(
                config.method,
                config,
                keys,
                train,
                val,
                parallel=parallel,
                checkpoint=checkpoint,
                on_round=report,
            )
        run.record["timing"]["search_s"] = time.perf_counter() - t0
        best = result.best
        test_acc = accuracy_on(result.best_params, test)
        if run.primary:
            search_figures.save_trials(result.rows, run.file("trials.png"))
        groups = group_trials([Trial(r["lr"], r["hidden"], r["batch_size"]) for r in result.rows])
        largest = max(groups.values(), key=len)
        speed = vmap_speed(largest, train, val, keys.probe, parallel)
        final = {
            "best": best,
            "best_test_acc": test_acc,
            "trials": result.rows,
            "vmap_speed": speed,
        }
        summary = (
            f"hparam_search {config.method}: best lr {best['lr']:.3g}, hidden {best['hidden']}, "
            f"batch {best['batch_size']}: val acc {best['val_acc']:.4f}, test acc "
            f"{test_acc:.4f}; {speed['trials']} vmapped trials take {speed['ratio']:.2f}x the "
            "time of one"
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
