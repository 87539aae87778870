"""d2l 4.2-4.3: MLPs on Fashion-MNIST, from scratch and concise, any depth and init scheme.

    python -m experiments.mlp --impl scratch|concise|nnx [--hidden 256]
        [--init normal|zeros|xavier|he|pretrain] [--pretrain-epochs 1]
        [--activation relu|sigmoid|tanh]
        [--epochs 10] [--batch-size 256] [--lr 0.1] [--seed 0] [--out DIR] [--data-dir PATH]

--hidden takes a comma list for deeper nets (256,128,64). The chapter's net is 784-256-10
with ReLU, W ~ N(0, 0.01), b = 0, SGD lr 0.1, batch 256: expected test accuracy about
0.85 (>= 0.84) after 10 epochs. --init zeros shows the symmetry problem: every hidden unit
stays identical (first-layer rank 0) and accuracy stays near chance; --init pretrain trains
each hidden layer as an autoencoder on the images first (`models.pretrain`). Writes
DIR/metrics.json (default runs/mlp/<impl>), curves.png and predictions.png.
"""

from __future__ import annotations

import dataclasses
import functools

import optax

from jaxd2l.chapters import piecewise
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
from jaxd2l.cli.flags import FlagError, when
from jaxd2l.core.keys import run_keys
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, pretrain
from jaxd2l.models.init import SCHEMES
from jaxd2l.nn.activations import ACTIVATIONS
from jaxd2l.nn.optim import sgd

PRETRAIN = when("init", "pretrain")


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    impl: str = flag("scratch", "implementation", choices=("scratch", "concise", "nnx"))
    hidden: tuple[int, ...] = flag((256,), "widths (256,128,64)", min=1, max=65536, repeats=True)
    activation: str = flag("relu", "prelu: a slope per layer", choices=(*ACTIVATIONS, "prelu"))
    init: str = flag("normal", "weight initialisation", choices=(*SCHEMES, "pretrain"))
    pretrain_epochs: int = flag(1, "epochs a layer", min=1, max=10**5, needs=PRETRAIN)
    sigma: float = flag(0.01, "std of the normal init", gt=0, needs=when("init", "normal"))
    epochs: int = flag(10, "passes over the training set", min=1, max=10**5)
    batch_size: int = flag(256, "examples per minibatch", min=1, max=2**24)
    lr: float = flag(0.1, "learning rate", gt=0)


def make_model(config: Config):
    """(model, optimizer, loss) of the implementation asked for (flax only for concise)."""
    act = "prelu" if config.activation == "prelu" else ACTIVATIONS[config.activation]
    scheme = "xavier" if config.init == "pretrain" else config.init  # pretrain replaces it
    if config.impl == "scratch":
        build = mlp.prelu_model if act == "prelu" else functools.partial(mlp.model, activation=act)
        model = build((784, *config.hidden, 10), scheme=scheme, sigma=config.sigma)
        return model, sgd(config.lr), scratch_loss()
    from jaxd2l.models import concise_impl  # flax (Linen or NNX) loads only for these

    model = concise_impl(config.impl).mlp((28, 28, 1), config.hidden, 10, scheme, config.sigma, act)
    return model, optax.sgd(config.lr), optax_loss()


def initial_params(run, config: Config, model):
    """The model's init, or greedy layer-wise autoencoder pre-training (--init pretrain)."""
    key = run_keys(config.seed).init
    if config.init != "pretrain":
        return model.init(key)
    if config.activation == "prelu":
        raise FlagError("--init pretrain takes a fixed --activation (relu, sigmoid, tanh)")
    (X, _), _ = fm.load_train_test(data_dir=config.data_dir, on_device=True)
    sizes, activation = (784, *config.hidden, 10), ACTIVATIONS[config.activation]
    done = pretrain.init(key, fm.scale_images(X), sizes, activation, epochs=config.pretrain_epochs)
    run.record["pretrain_loss"] = done.losses
    if config.impl == "scratch":
        return done.params
    from jaxd2l.models import concise_impl

    return concise_impl(config.impl).mlp_params(done.params)


def first_layer_weights(params):
    """The first layer's weight matrix [784, hidden], in any of the layouts."""
    if isinstance(params, dict) and "layers" in params:  # scratch pReLU
        params = params["layers"]
    return (
        params[0]["W"]
        if isinstance(params, list)
        else params.get("Dense_0", params.get("dense_0"))["kernel"]
    )


def main(config: Config) -> dict:
    model, tx, loss = make_model(config)
    with Run("mlp", config, config.impl) as run:
        run.record["architecture"] = "-".join(map(str, (784, *config.hidden, 10)))
        params = initial_params(run, config, model)
        run.record["hidden_units_before"] = mlp.hidden_unit_spread(first_layer_weights(params))
        trained = run_classifier(run, config, model, tx, loss, params=params)
        params = trained.result.params  # how alike the first layer's hidden units ended
        run.record["hidden_units_after"] = mlp.hidden_unit_spread(first_layer_weights(params))
        if config.activation in ("relu", "prelu"):
            path = run.file("piecewise.png") if run.primary else None
            run.record["piecewise"] = piecewise.line_report(
                model.apply, params, trained.test[0], path
            )
        return finish_classifier(run, model, trained)


if __name__ == "__main__":
    run_cli(main, Config)
