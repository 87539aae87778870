"""d2l 3.6-3.7: softmax regression on Fashion-MNIST, from scratch and concise.

    python -m experiments.softmax_regression --impl scratch|concise|nnx [--epochs 10]
        [--batch-size 256] [--lr 0.1] [--seed 0] [--out DIR] [--data-dir PATH]
        [--label-smoothing 0.1]

scratch: W ~ N(0, 0.01) [784, 10], b = 0, our stable cross-entropy, d2l's hand-written SGD.
concise: flax (flatten + Dense 10), optax's softmax cross-entropy and optax.sgd.
Expected after 10 epochs: test accuracy about 0.83 (>= 0.82), train loss about 0.45.
Writes DIR/metrics.json (default runs/softmax_regression/<impl>), curves.png, predictions.png.
"""

from __future__ import annotations

import dataclasses

import optax

from jaxd2l.chapters.classification import optax_loss, scratch_loss
from jaxd2l.cli import (
    DataFlags,
    Run,
    TrainingFlags,
    finish_classifier,
    flag,
    run_classifier,
    run_cli,
)
from jaxd2l.models import softmax
from jaxd2l.nn.optim import sgd


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    impl: str = flag("scratch", "implementation", choices=("scratch", "concise", "nnx"))
    epochs: int = flag(10, "passes over the training set", min=1, max=10**5)
    batch_size: int = flag(256, "examples per minibatch", min=1, max=2**24)
    lr: float = flag(0.1, "learning rate", gt=0)
    label_smoothing: float = flag(0.0, "soft labels: weight spread over all classes", min=0, lt=1)


def make_model(config: Config):
    """(model, optimizer, loss) of the implementation asked for (flax loads only for it)."""
    if config.impl == "scratch":
        return softmax.model(), sgd(config.lr), scratch_loss(config.label_smoothing)
    from jaxd2l.models import concise_impl  # flax (Linen or NNX) loads only for these

    model = concise_impl(config.impl).softmax_regression((28, 28, 1))
    return model, optax.sgd(config.lr), optax_loss(config.label_smoothing)


def main(config: Config) -> dict:
    model, tx, loss = make_model(config)
    with Run("softmax_regression", config, config.impl) as run:
        return finish_classifier(run, model, run_classifier(run, config, model, tx, loss))


if __name__ == "__main__":
    run_cli(main, Config)
