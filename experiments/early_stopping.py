"""d2l-en 5.5: early stopping under label noise, on Fashion-MNIST.

    python -m experiments.early_stopping [--noise 0,0.2,0.4] [--patience 5] [--epochs 30]
        [--hidden 256] [--lr 0.1] [--val-size 10000] [--data-dir PATH] [--seed 0] [--out DIR]

For each noise level a fraction of the training labels is replaced by a wrong class; the
MLP trains while a held-out validation split (clean labels) is evaluated after every epoch;
training stops once --patience epochs bring no better validation accuracy, and the best
epoch's parameters are kept and scored on the test set. Writes DIR/metrics.json (default
runs/early_stopping) and stopping.png (train and validation accuracy, the kept epoch).
"""

from __future__ import annotations

import dataclasses

import jax

from jaxd2l.chapters.classification import classifier_evaluate, scratch_loss, train_classifier
from jaxd2l.cli import DataFlags, Run, SeedFlags, flag, run_cli
from jaxd2l.cli.flags import FlagError
from jaxd2l.core import history
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import summarize
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.data.noise import noisy_labels
from jaxd2l.models import mlp
from jaxd2l.nn.early_stopping import EarlyStopping
from jaxd2l.nn.optim import sgd
from jaxd2l.plot import stopping_figures
from jaxd2l.search.trials import validation_split


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags, DataFlags):
    noise: tuple[float, ...] = flag(
        (0.0, 0.2, 0.4), "fractions of noisy training labels", min=0, max=1
    )
    patience: int = flag(
        5, "epochs without a better validation accuracy before stopping", min=1, max=10**5
    )
    epochs: int = flag(30, "at most this many epochs", min=1, max=10**5)
    hidden: int = flag(256, "hidden units", min=1, max=65536)
    lr: float = flag(0.1, "learning rate", gt=0)
    batch_size: int = flag(256, "examples per minibatch", min=1, max=2**24)
    val_size: int = flag(
        10000, "clean validation examples held out of the training set", min=1, max=1_000_000
    )


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    with Run("early_stopping", config) as run:
        (X, y), test = fm.load_train_test(data_dir=config.data_dir, on_device=True)
        try:
            train, val = validation_split(keys.split, X, y, config.val_size)
        except ValueError as e:
            raise FlagError(f"--val-size: {e}") from None
        model, tx = mlp.model((784, config.hidden, 10)), sgd(config.lr)
        evaluate = jax.jit(classifier_evaluate(model.apply))
        results, runs = {}, {}
        for i, fraction in enumerate(config.noise):
            labels, _ = noisy_labels(jax.random.fold_in(keys.data, i), train[1], fraction)
            stop = EarlyStopping(config.patience, "validation_acc")
            result = train_classifier(
                model,
                tx,
                scratch_loss(),
                (train[0], labels),
                val,
                epochs=config.epochs,
                batch_size=config.batch_size,
                key=keys.root,
                hooks=[stop],
                evaluated="validation",
            )
            test_acc = float(summarize(evaluate(stop.best_params, *test))["acc"])
            last = result.last
            results[f"{fraction:g}"] = {
                "stopped_after": last["epoch"],
                "best_epoch": stop.best_epoch,
                "best_val_acc": stop.best,
                "last_val_acc": last["validation_acc"],
                "test_acc_of_best": test_acc,
                "train_acc_last": last["train_acc"],
            }
            runs[f"noise {fraction:.0%}"] = (result.history, stop.best_epoch)
            print(
                f"noise {fraction:.0%}: stopped after epoch {last['epoch']}, kept epoch "
                f"{stop.best_epoch} (val {stop.best:.4f}), test {test_acc:.4f}",
                flush=True,
            )
        if run.primary:
            stopping_figures.save_stopped_runs(runs, run.file("stopping.png"))
        run.record["histories"] = {k: history.records(h) for k, (h, _) in runs.items()}
        summary = "early_stopping: " + "; ".join(
            f"noise {k}: kept epoch {r['best_epoch']} of {r['stopped_after']}, test "
            f"{r['test_acc_of_best']:.4f}"
            for k, r in results.items()
        )
        return run.finish(results, summary)


if __name__ == "__main__":
    run_cli(main, Config)
