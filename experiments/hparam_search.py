"""d2l 4.2 exercise 2 and the course note's four strategies: grid, random or Bayesian search
over learning rate, hidden width and batch size, or all three compared on one budget.

    python -m experiments.hparam_search --method grid|random|bayes|compare [--trials N]
        [--model mlp|softmax] [--lrs 0.03,0.1,0.3] [--lr-range 0.01,1] [--hidden 64,256]
        [--batch-sizes 256] [--epochs 3] [--round-size 8] [--sampler tpe|gp] [--seeds 3]

Selection on --val-size examples held out of training; the test set scores only the chosen
trial. Trials sharing shapes train as one vmapped program (`vmap_speed`). bayes: Optuna asks
--round-size trials a round (study in DIR/study.db with --checkpoint-dir, --resume goes on).
compare: the three over --seeds seeds (strategies.png).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

from jaxd2l.cli import DataFlags, FlagError, Run, TrainingFlags, flag, run_cli, when, write_csv
from jaxd2l.cli.runner import training_setup
from jaxd2l.core.keys import run_keys
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.plot import search_figures
from jaxd2l.search import strategies, trials
from jaxd2l.search.loop import best_so_far
from jaxd2l.search.strategies import SAMPLERS
from jaxd2l.search.trials import HPARAMS, accuracy_on, largest_group_speed, validation_split

GRID, NOT_GRID = when("method", "grid"), when("method", "random", "bayes", "compare")
BAYES, COMPARE = when("method", "bayes", "compare"), when("method", "compare")


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    method: str = flag("grid", "compare: all three", choices=(*strategies.METHODS, "compare"))
    model: str = flag("mlp", "mlp, or softmax (no hidden layer)", choices=("mlp", "softmax"))
    trials: int = flag(8, "number of trials", min=1, max=4096, needs=NOT_GRID)
    lrs: tuple[float, ...] = flag((0.03, 0.1, 0.3), "grid: learning rates", gt=0, needs=GRID)
    lr_range: tuple[float, ...] = flag((0.01, 1.0), "log-uniform lr range", gt=0, needs=NOT_GRID)
    hidden: tuple[int, ...] = flag(
        (64, 256), "hidden widths to try", min=1, max=65536, needs=when("model", "mlp")
    )
    batch_sizes: tuple[int, ...] = flag((256,), "batch sizes to try", min=1, max=2**24)
    epochs: int = flag(3, "epochs per trial", min=1, max=10**5)
    val_size: int = flag(10000, "validation examples held out of training", min=1, max=10**6)
    round_size: int = flag(8, "trials asked (vmapped) a round", min=1, max=4096, needs=BAYES)
    sampler: str = flag("tpe", "Optuna's (gp: PyTorch)", choices=SAMPLERS, needs=BAYES)
    seeds: int = flag(3, "seeds per strategy", min=1, max=64, needs=COMPARE)

    def check(self) -> None:
        super().check()
        try:
            strategies.check_settings(settings(self))
        except ValueError as e:
            raise FlagError(str(e)) from None
        if self.method == "compare":
            self.refuse_fit_flags("--method compare runs its searches in memory")
            if self.trials < len(settings(self).hiddens):
                raise FlagError("--trials must be at least the number of --hidden widths")


def settings(config: Config) -> strategies.SearchSettings:
    """The search's settings from the flags (softmax: no hidden layer, width 0)."""
    hiddens = config.hidden if config.model == "mlp" else (0,)
    space = (config.lrs, config.lr_range, hiddens, config.batch_sizes)
    budget = (config.epochs, config.trials, config.round_size, config.sampler, config.seed)
    return strategies.SearchSettings(*space, *budget)


def compare(config: Config, run: Run, train, val) -> dict:
    """Grid, random and Bayesian search on one budget over --seeds seeds."""
    seeds = range(config.seed, config.seed + config.seeds)
    said = lambda m, seed, curve: print(f"{m} seed {seed}: best val acc {curve[-1]:.4f}")  # noqa: E731
    curves = strategies.compare_strategies(train, val, settings(config), seeds, said)
    if run.primary:
        search_figures.save_strategies(curves, run.file("strategies.png"), epochs=config.epochs)
    final = strategies.summarize_strategies(curves)
    medians = ", ".join(f"{m} {v['median_best_val_acc']:.4f}" for m, v in final.items())
    return run.finish(final, f"hparam_search compare: median best val acc {medians}")


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    with Run("hparam_search", config, config.method) as run:
        parallel, checkpoint = training_setup(config)
        parallel = trials.TrialParallel(parallel.mesh) if parallel is not None else None
        (X, y), test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
        train, val = validation_split(keys.split, X, y, config.val_size)
        if config.method == "compare":
            return compare(config, run, train, val)

        def report(rows):  # after every group or round: a failure keeps the rows so far
            if run.primary:
                print(f"{len(rows)} trials: best val acc so far {best_so_far(rows)[-1]:.4f}")
                write_csv(rows, run.file("trials.csv"))

        bayes = config.method == "bayes" and checkpoint is not None
        study = strategies.study_storage(config.checkpoint_dir, config.resume) if bayes else None
        t0 = time.perf_counter()
        with checkpoint or contextlib.nullcontext():
            kwargs = dict(keys=keys, parallel=parallel, checkpoint=checkpoint, study=study)
            kwargs["on_round"] = report
            result = strategies.search(config.method, train, val, settings(config), **kwargs)
        run.record["timing"]["search_s"] = time.perf_counter() - t0
        best, test_acc = result.best, accuracy_on(result.best_params, test)
        run.hparams(result.rows, *HPARAMS)  # TensorBoard's table of the trials
        if run.primary:
            search_figures.save_trials(result.rows, run.file("trials.png"))
        speed = largest_group_speed(result.rows, train, val, keys.probe, parallel)
        final = {"best": best, "best_test_acc": test_acc, "trials": result.rows}
        summary = f"hparam_search {config.method}: best {best}, test acc {test_acc:.4f}; " + (
            f"{speed['trials']} vmapped trials take {speed['ratio']:.2f}x the time of one"
        )
        return run.finish({**final, "vmap_speed": speed}, summary)


if __name__ == "__main__":
    run_cli(main, Config)
