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
import csv
import dataclasses
import time

import jax
import numpy as np

from jaxd2l import hparam
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.errors import FlagError
from jaxd2l.experiment import (
    Run,
    TrainingFlags,
    check_config,
    flag,
    run_cli,
    seed_flag,
    training_setup,
)
from jaxd2l.loop import DivergedError
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import classification_metrics
from jaxd2l.models import mlp
from jaxd2l.parallel import TrialParallel
from jaxd2l.train import make_evaluate, summarize


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags):
    method: str = flag("grid", "search method", choices=("grid", "random"))
    model: str = flag(
        "mlp", "mlp (one hidden layer) or softmax (no hidden layer)", choices=("mlp", "softmax")
    )
    trials: int = flag(8, "random search: number of trials", min=1)
    lrs: tuple[float, ...] = flag((0.03, 0.1, 0.3), "grid: learning rates", gt=0)
    lr_range: tuple[float, ...] = flag((0.01, 1.0), "random: log-uniform lr range", gt=0)
    hidden: tuple[int, ...] = flag((64, 256), "hidden widths to try (mlp)", min=1)
    batch_sizes: tuple[int, ...] = flag((256,), "batch sizes to try", min=1)
    epochs: int = flag(3, "epochs per trial", min=1)
    val_size: int = flag(10000, "validation examples held out of the training set", min=1)
    seed: int = seed_flag()
    data_dir: str | None = flag(None, "folder with the four Fashion-MNIST IDX files")
    out: str | None = flag(None, "output folder (default runs/hparam_search/<method>)")

    def __post_init__(self):
        check_config(self)
        if len(self.lr_range) != 2 or self.lr_range[0] >= self.lr_range[1]:
            raise FlagError(f"--lr-range needs LOW,HIGH with LOW < HIGH, got {self.lr_range}")


def make_trials(config: Config, key) -> list[hparam.Trial]:
    hiddens = config.hidden if config.model == "mlp" else (0,)
    if config.method == "grid":
        return hparam.grid(config.lrs, hiddens, config.batch_sizes)
    return hparam.random_trials(
        key, config.trials, tuple(config.lr_range), hiddens, config.batch_sizes
    )


def vmap_speed(trials, train, val, key, parallel=None) -> dict:
    """Seconds per epoch of a vmapped group against one of its trials alone (compiled)."""
    group = hparam.train_group(trials, train, val, epochs=2, key=key, parallel=parallel)
    alone = hparam.train_group(trials[:1], train, val, epochs=2, key=key, parallel=parallel)
    together, single = min(group["epoch_s"]), min(alone["epoch_s"])
    return {
        "trials": len(trials),
        "vmapped_epoch_s": together,
        "single_epoch_s": single,
        "ratio": together / single,
    }


def _best_shapes(row: dict):
    """The structure of the best trial's params, to restore them into."""
    sizes = (784, row["hidden"], 10) if row["hidden"] else (784, 10)
    return jax.eval_shape(lambda: mlp.init(jax.random.key(0), sizes))


def _resume(checkpoint, root):
    """(rows, best) saved after the last finished group, or ([], None)."""
    meta = checkpoint.restore_meta() if checkpoint is not None else None
    if meta is None:
        return [], None
    rows = meta["history"]
    best_row = max(rows, key=_selection_score)
    best_params = checkpoint.restore_state(_best_shapes(best_row), root)
    print(f"resumed from {checkpoint.directory}: {len(rows)} trials done", flush=True)
    return rows, (best_row, best_params)


def _selection_score(row: dict) -> float:
    """Validation accuracy; a diverged trial (NaN) never wins."""
    acc = row["val_acc"]
    return acc if acc is not None and np.isfinite(acc) else -np.inf


def main(config: Config) -> dict:
    root = jax.random.key(config.seed)
    with Run("hparam_search", config, config.method) as run:
        parallel, checkpoint = training_setup(config)
        parallel = TrialParallel(parallel.mesh) if parallel is not None else None
        (X, y), test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
        try:
            train, val = hparam.validation_split(jax.random.fold_in(root, 0), X, y, config.val_size)
        except ValueError as e:
            raise FlagError(f"--val-size: {e}") from None
        trials = make_trials(config, jax.random.fold_in(root, 1))
        with checkpoint or contextlib.nullcontext():
            rows, best = _resume(checkpoint, root)
            t0 = time.perf_counter()
            groups = hparam.group_trials(trials)
            for (hidden, batch_size), group in groups.items():
                if any((r["hidden"], r["batch_size"]) == (hidden, batch_size) for r in rows):
                    continue  # finished before the run was resumed
                key = jax.random.fold_in(root, 1000 + hidden * 7919 + batch_size)
                out = hparam.train_group(
                    group, train, val, epochs=config.epochs, key=key, parallel=parallel
                )
                if run.primary:
                    print(
                        f"hidden {hidden:>4} batch {batch_size:>4}: {len(group)} trials vmapped, "
                        f"{np.median(out['epoch_s']):.2f} s/epoch, val acc "
                        + " ".join(f"{a:.3f}" for a in out["val_acc"]),
                        flush=True,
                    )
                for i, trial in enumerate(group):
                    diverged = out["train_diverged"][i]
                    row = {
                        **trial._asdict(),
                        "val_acc": out["val_acc"][i] if not diverged else float("nan"),
                        "val_loss": out["val_loss"][i],
                        "train_loss": out["train_loss"][i],
                        "diverged": diverged,
                    }
                    rows.append(row)
                    if best is None or _selection_score(row) > _selection_score(best[0]):
                        best = (row, jax.tree.map(lambda p, i=i: p[i], out["params"]))
                if run.primary:  # after every group: a failure keeps them
                    _write_csv(rows, run.file("trials.csv"))
                if checkpoint is not None:
                    checkpoint.save(len(rows), best[1], root, rows)
        search_s = time.perf_counter() - t0
        best_row, best_params = best
        if not np.isfinite(_selection_score(best_row)):
            raise DivergedError(
                config.epochs,
                None,
                rows,
                f"every trial diverged ({len(rows)} of {len(rows)}: the training loss is not "
                "finite); lower the learning rates (--lrs, --lr-range)",
            )
        evaluate = make_evaluate(
            mlp.apply, cross_entropy, classification_metrics, prepare=fm.scale_images
        )
        test_acc = float(summarize(evaluate(best_params, *map(jax.numpy.asarray, test)))["acc"])

        if run.primary:
            _plot(rows, run.file("trials.png"))
        largest = max(groups.values(), key=len)
        speed = vmap_speed(largest, train, val, jax.random.fold_in(root, 2), parallel)
        run.record["timing"].update({"search_s": search_s})
        final = {"best": best_row, "best_test_acc": test_acc, "trials": rows, "vmap_speed": speed}
        summary = (
            f"hparam_search {config.method}: best lr {best_row['lr']:.3g}, hidden "
            f"{best_row['hidden']}, batch {best_row['batch_size']}: val acc "
            f"{best_row['val_acc']:.4f}, test acc {test_acc:.4f}; {speed['trials']} vmapped "
            f"trials take {speed['ratio']:.2f}x the time of one"
        )
        return run.finish(final, summary)


def _write_csv(rows, path):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _plot(rows, path):
    curves = {}
    for r in sorted(rows, key=lambda r: r["lr"]):
        curves.setdefault(f"hidden {r['hidden']}, batch {r['batch_size']}", []).append(r)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.4), layout="constrained")
    ax = fig.add_subplot()
    for label, rs in curves.items():
        ax.plot([r["lr"] for r in rs], [r["val_acc"] for r in rs], "o-", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    run_cli(main, Config)
