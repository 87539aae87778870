"""d2l 4.6: dropout, from scratch and concise (flax's nn.Dropout), on Fashion-MNIST.

    python -m experiments.dropout --impl scratch|concise|nnx [--dropout 0.2,0.5] [--hidden 256,256]
        [--epochs 10] [--batch-size 256] [--lr 0.5] [--no-compare] [--seed 0] [--out DIR]

The book's net: 784-256-256-10, ReLU, dropout 0.2 after the first hidden layer and 0.5
after the second, lr 0.5, batch 256, 10 epochs. Each batch's masks come from the run's key,
the epoch and the batch index (the same on any number of devices and across a resume);
evaluation drops nothing. Expected: test accuracy at or above 0.84. With --compare (the
default) the same net trains without dropout first, so curves.png shows the gap between
train and test accuracy that dropout narrows, and the record has both epochs' speed.
Writes DIR/metrics.json (default runs/dropout/<impl>), curves.png, compare.png,
predictions.png.
"""

from __future__ import annotations

import dataclasses

import optax

from jaxd2l import plot
from jaxd2l.chapters.classification import optax_loss, scratch_loss, train_classifier
from jaxd2l.cli import (
    DataFlags,
    Run,
    TrainingFlags,
    finish_classifier,
    flag,
    run_classifier,
    run_cli,
)
from jaxd2l.core.keys import run_keys
from jaxd2l.models import mlp
from jaxd2l.nn.optim import sgd


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    impl: str = flag("scratch", "implementation", choices=("scratch", "concise", "nnx"))
    hidden: tuple[int, ...] = flag((256, 256), "layer widths", min=1, max=65536, repeats=True)
    dropout: tuple[float, ...] = flag(
        (0.2, 0.5), "rate after each hidden layer", min=0, max=1, empty_ok=True, repeats=True
    )
    epochs: int = flag(10, "passes over the training set", min=1, max=10**5)
    batch_size: int = flag(256, "examples per minibatch", min=1, max=2**24)
    lr: float = flag(0.5, "learning rate", gt=0)
    compare: bool = flag(True, "also train the same net without dropout, for the figure")

    def check(self) -> None:
        super().check()
        try:
            mlp.check_dropout(self.dropout, len(self.hidden))
        except ValueError as e:
            from jaxd2l.cli.flags import FlagError

            raise FlagError(f"--dropout: {e}") from None


def make_model(config: Config, rates):
    """(model, optimizer, loss) with dropout `rates` (flax only for the concise path)."""
    if config.impl == "scratch":
        sizes = (784, *config.hidden, 10)
        return mlp.model(sizes, dropout=rates), sgd(config.lr), scratch_loss()
    from jaxd2l.models import concise_impl  # flax (Linen or NNX) loads only for these

    model = concise_impl(config.impl).mlp((28, 28, 1), config.hidden, dropout=rates)
    return model, optax.sgd(config.lr), optax_loss()


def main(config: Config) -> dict:
    with Run("dropout", config, config.impl) as run:
        model, tx, loss = make_model(config, config.dropout)
        trained = run_classifier(run, config, model, tx, loss)
        if config.compare:
            compare(run, config, trained)
        return finish_classifier(run, model, trained)


def compare(run: Run, config: Config, trained) -> None:
    """The same net without dropout on the same data and keys: compare.png, both final
    figures and the ratio of their epoch times in the record."""
    model, tx, loss = make_model(config, ())
    baseline = train_classifier(
        model,
        tx,
        loss,
        trained.train,
        trained.test,
        epochs=config.epochs,
        batch_size=config.batch_size,
        key=run_keys(config.seed).root,
    )
    base = baseline.last
    print(f"without dropout: test acc {base['test_acc']:.4f}, train acc {base['train_acc']:.4f}")
    if run.primary:
        rates = ", ".join(map(str, config.dropout))
        histories = {
            "without dropout": baseline.history,
            f"dropout {rates}": trained.result.history,
        }
        plot.save_curve_panels(histories, run.file("compare.png"))
    run.record["without_dropout"] = {
        **{k: base[k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")},
        "median_epoch_s": baseline.timing["median_epoch_s"],
    }
    ratio = trained.result.timing["median_epoch_s"] / baseline.timing["median_epoch_s"]
    run.record["dropout_epoch_ratio"] = ratio
    print(f"a dropout epoch takes {ratio:.2f}x one without dropout", flush=True)


if __name__ == "__main__":
    run_cli(main, Config)
