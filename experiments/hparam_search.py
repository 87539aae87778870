"""d2l 4.2 exercise 2: grid or random search over learning rate, hidden width, batch size.

    python -m experiments.hparam_search --method grid|random [--trials N] [--model mlp|softmax]
        [--lrs 0.03,0.1,0.3] [--hidden 64,256] [--batch-sizes 256] [--epochs 3] [--out DIR]

Selection uses a validation split (--val-size examples) carved from the training set; the
test set only reports the chosen configuration. Trials sharing hidden width and batch
size train together: one compiled program, the step vmapped over learning rates. The run
also times that group against one of its trials alone (`vmap_speed`). Writes
DIR/metrics.json (default runs/hparam_search/<method>), DIR/trials.csv and DIR/trials.png.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np

from jaxd2l import hparam, plot
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.errors import FlagError
from jaxd2l.experiment import (
    DataFlags,
    Run,
    TrainingFlags,
    flag,
    run_cli,
    training_setup,
    write_csv,
)
from jaxd2l.keys import run_keys
from jaxd2l.parallel import TrialParallel
from jaxd2l.search import run_search


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    method: str = flag("grid", "search method", choices=("grid", "random"))
    model: str = flag(
        "mlp", "mlp (one hidden layer) or softmax (no hidden layer)", choices=("mlp", "softmax")
    )
    trials: int = flag(8, "random search: number of trials", min=1, max=4096)
    lrs: tuple[float, ...] = flag((0.03, 0.1, 0.3), "grid: learning rates", gt=0)
    lr_range: tuple[float, ...] = flag((0.01, 1.0), "random: log-uniform lr range", gt=0)
    hidden: tuple[int, ...] = flag((64, 256), "hidden widths to try (mlp)", min=1, max=65536)
    batch_sizes: tuple[int, ...] = flag((256,), "batch sizes to try", min=1, max=2**24)
    epochs: int = flag(3, "epochs per trial", min=1)
    val_size: int = flag(10000, "validation examples held out of the training set", min=1)

    def check(self) -> None:
        super().check()
        if len(self.lr_range) != 2 or self.lr_range[0] >= self.lr_range[1]:
            raise FlagError(f"--lr-range needs LOW,HIGH with LOW < HIGH, got {self.lr_range}")


def make_trials(config: Config, key) -> list[hparam.Trial]:
    hiddens = config.hidden if config.model == "mlp" else (0,)
    if config.method == "grid":
        return hparam.grid(config.lrs, hiddens, config.batch_sizes)
    return hparam.random_trials(key, config.trials, config.lr_range, hiddens, config.batch_sizes)


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    with Run("hparam_search", config, config.method) as run:
        parallel, checkpoint = training_setup(config)
        parallel = TrialParallel(parallel.mesh) if parallel is not None else None
        (X, y), test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
        try:
            train, val = hparam.validation_split(keys.split, X, y, config.val_size)
        except ValueError as e:
            raise FlagError(f"--val-size: {e}") from None

        def report(rows, out):  # after every group: a failure keeps the rows so far
            if run.primary:
                last = rows[-1]
                print(
                    f"hidden {last['hidden']:>4} batch {last['batch_size']:>4}: "
                    f"{len(out['val_acc'])} trials vmapped, {np.median(out['epoch_s']):.2f} "
                    "s/epoch, val acc " + " ".join(f"{a:.3f}" for a in out["val_acc"]),
                    flush=True,
                )
                write_csv(rows, run.file("trials.csv"))

        t0 = time.perf_counter()
        with checkpoint or contextlib.nullcontext():
            result = run_search(
                make_trials(config, keys.trials), train, val, epochs=config.epochs,
                keys=keys, parallel=parallel, checkpoint=checkpoint, on_group=report,
            )  # fmt: skip
        run.record["timing"]["search_s"] = time.perf_counter() - t0
        best = result.best
        test_acc = hparam.test_accuracy(result.best_params, test)
        if run.primary:
            plot.save_trials(result.rows, run.file("trials.png"))
        largest = max(result.groups.values(), key=len)
        speed = hparam.vmap_speed(largest, train, val, keys.probe, parallel)
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
