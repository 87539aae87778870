"""d2l 4.2-4.3: MLPs on Fashion-MNIST, from scratch and concise, any depth and init scheme.

    python -m experiments.mlp --impl scratch|concise [--hidden 256] [--init normal|zeros|xavier|he]
        [--activation relu|sigmoid|tanh]
        [--epochs 10] [--batch-size 256] [--lr 0.1] [--seed 0] [--out DIR] [--data-dir PATH]

--hidden takes a comma list for deeper nets (256,128,64). The chapter's net is 784-256-10
with ReLU, W ~ N(0, 0.01), b = 0, SGD lr 0.1, batch 256: expected test accuracy about
0.85 (>= 0.84) after 10 epochs. --init zeros shows the symmetry problem: every hidden unit
stays identical (first-layer rank 0) and accuracy stays near chance. Writes
DIR/metrics.json (default runs/mlp/<impl>), curves.png and predictions.png.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import optax

from jaxd2l import plot
from jaxd2l.chapters import piecewise
from jaxd2l.chapters.classification import optax_loss, scratch_loss
from jaxd2l.core.keys import run_keys
from jaxd2l.core.optim import sgd
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.experiment import (
    DataFlags,
    Run,
    TrainingFlags,
    finish_classifier,
    flag,
    run_classifier,
    run_cli,
)
from jaxd2l.models import mlp
from jaxd2l.models.init import SCHEMES
from jaxd2l.nn.activations import ACTIVATIONS


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags, DataFlags):
    impl: str = flag("scratch", "implementation", choices=("scratch", "concise"))
    hidden: tuple[int, ...] = flag(
        (256,), "hidden layer widths, e.g. 256 or 256,128,64", min=1, max=65536
    )
    activation: str = flag(
        "relu",
        "hidden activation (prelu: a learnable slope per layer)",
        choices=(*ACTIVATIONS, "prelu"),
    )
    init: str = flag("normal", "weight initialisation", choices=SCHEMES)
    sigma: float = flag(0.01, "standard deviation of the normal init", gt=0)
    epochs: int = flag(10, "passes over the training set", min=1)
    batch_size: int = flag(256, "examples per minibatch", min=1, max=2**24)
    lr: float = flag(0.1, "learning rate", gt=0)


def make_model(config: Config):
    """(model, optimizer, loss) of the implementation asked for (flax only for concise)."""
    prelu = config.activation == "prelu"
    activation = "prelu" if prelu else ACTIVATIONS[config.activation]
    if config.impl == "scratch":
        sizes = (784, *config.hidden, 10)
        settings = {"scheme": config.init, "sigma": config.sigma}
        model = (
            mlp.prelu_model(sizes, **settings)
            if prelu
            else mlp.model(sizes, activation=activation, **settings)
        )
        return model, sgd(config.lr), scratch_loss()
    from jaxd2l.models import concise  # flax loads only for the concise path

    model = concise.mlp((28, 28, 1), config.hidden, 10, config.init, config.sigma, activation)
    return model, optax.sgd(config.lr), optax_loss()


def first_layer_weights(params):
    """The first layer's weight matrix [784, hidden], in any of the layouts."""
    if isinstance(params, dict) and "layers" in params:  # scratch pReLU
        params = params["layers"]
    return params[0]["W"] if isinstance(params, list) else params["Dense_0"]["kernel"]


def main(config: Config) -> dict:
    model, tx, loss = make_model(config)
    with Run("mlp", config, config.impl) as run:
        run.record["architecture"] = "-".join(map(str, (784, *config.hidden, 10)))
        params = model.init(run_keys(config.seed).init)
        run.record["hidden_units_before"] = mlp.hidden_unit_spread(first_layer_weights(params))
        trained = run_classifier(run, config, model, tx, loss, params=params)
        params = trained.result.params  # how alike the first layer's hidden units ended
        run.record["hidden_units_after"] = mlp.hidden_unit_spread(first_layer_weights(params))
        if config.activation in ("relu", "prelu"):
            run.record["piecewise"] = piecewise_figure(run, model, params, trained.test[0])
        return finish_classifier(run, model, trained)


def piecewise_figure(run, model, params, images):
    """The course note's exercise 1 on the trained net: along the line through the first two
    test images the logits are continuous and piecewise linear (piecewise.png)."""
    x0, x1 = fm.scale_images(jnp.asarray(images[:2])).reshape(2, -1)
    ts = jnp.linspace(-0.5, 1.5, 4001)
    out, slopes = piecewise.along_line(model.apply, params, x0, x1 - x0, ts)
    if run.primary:
        panels = {
            "logits": {f"class {k}": out[:, k] for k in range(3)},
            "d logit / dt (jvp)": {f"class {k}": slopes[:, k] for k in range(3)},
        }
        plot.save_function_panels(ts, panels, run.file("piecewise.png"), xlabel="t")
    jumps = float(jnp.abs(jnp.diff(out, axis=0)).max())  # continuity: no jump between points
    return {"pieces": piecewise.count_pieces(slopes), "max_step_change": jumps, "points": 4001}


if __name__ == "__main__":
    run_cli(main, Config)
