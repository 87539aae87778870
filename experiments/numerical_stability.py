"""d2l 4.8: numerical stability and initialisation, measured on the program itself.

    python -m experiments.numerical_stability [--depth 20] [--width 256] [--train-epochs 1]
        [--train-width 128] [--data-dir PATH] [--seed 0] [--out DIR]

The book's demonstrations: sigmoid's gradient vanishes away from 0 (sigmoid.png, by
vmap(grad)); the product of 100 random 4x4 Gaussian matrices explodes (its norm reaches
about 1e21). Beyond the book: a --depth-layer MLP at init, the std of every layer's
activations and of the gradients of its weights for normal(0.01) / Xavier / He x sigmoid
/ tanh / ReLU, all nine in one program (layers.png): with the 0.01 init the gradients
vanish whatever the activation, He keeps ReLU's activations level. Then three of them trained for
--train-epochs on Fashion-MNIST show the consequence. Writes DIR/metrics.json (default
runs/numerical_stability), sigmoid.png, layers.png.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import plot
from jaxd2l.chapters import stability
from jaxd2l.chapters.classification import scratch_loss, train_classifier
from jaxd2l.cli import DataFlags, Run, SeedFlags, flag, run_cli
from jaxd2l.core.keys import run_keys
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp
from jaxd2l.nn.activations import ACTIVATIONS, derivative, sigmoid
from jaxd2l.nn.optim import sgd

TRAINED = (("normal", "sigmoid"), ("xavier", "tanh"), ("he", "relu"))

TRAINING = ("--train-epochs 1 or more", lambda c: c.train_epochs > 0)  # see `flag`'s needs


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags, DataFlags):
    depth: int = flag(20, "hidden layers of the measured MLP", min=1, max=200)
    width: int = flag(256, "units per hidden layer", min=1, max=4096)
    train_epochs: int = flag(1, "epochs of the three trained nets (0: none)", min=0, max=10**5)
    train_width: int = flag(
        128, "units per hidden layer of the trained nets", min=1, max=4096, needs=TRAINING
    )
    lr: float = flag(0.1, "learning rate of the trained nets", gt=0, needs=TRAINING)


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    with Run("numerical_stability", config) as run:
        x = jnp.linspace(-8, 8, 401)
        norms = stability.matrix_product_log_norms(keys.data)
        X = jax.random.normal(keys.probe, (256, 784))
        acts, grads = stability.all_combinations(
            keys.init, X, depth=config.depth, width=config.width
        )
        names = [f"{s}, {a}" for s in stability.SCHEMES for a in stability.ACTIVATIONS]
        if run.primary:
            panels = {"sigmoid": {"sigmoid": sigmoid(x), "gradient": derivative(sigmoid)(x)}}
            plot.save_function_panels(x, panels, run.file("sigmoid.png"))
            per_layer = {
                "activation std": dict(zip(names, np.asarray(acts).reshape(9, -1), strict=True)),
                "weight-gradient std": dict(
                    zip(names, np.asarray(grads).reshape(9, -1), strict=True)
                ),
            }
            plot.save_loss_panels(
                per_layer, run.file("layers.png"), xlabel="layer", ylabel="std", logy=True
            )
        trained = {}
        if config.train_epochs:
            train, test = fm.load_train_test(data_dir=config.data_dir, on_device=True)
            for scheme, act in TRAINED:
                sizes = (784, *[config.train_width] * config.depth, 10)
                model = mlp.model(sizes, activation=ACTIVATIONS[act], scheme=scheme)
                result = train_classifier(
                    model,
                    sgd(config.lr),
                    scratch_loss(),
                    train,
                    test,
                    epochs=config.train_epochs,
                    batch_size=256,
                    key=keys.root,
                )
                trained[f"{scheme}, {act}"] = result.last["test_acc"]
        final = {
            "matrix_product_log10_norm": norms,
            "layers": {
                n: {"activation_std": a, "gradient_std": g}
                for n, a, g in zip(
                    names,
                    np.asarray(acts).reshape(9, -1),
                    np.asarray(grads).reshape(9, -1),
                    strict=True,
                )
            },
            "trained_test_acc": trained,
        }
        summary = (
            f"numerical_stability: 100 random 4x4 matrices multiply to norm 1e"
            f"{float(norms[-1]):.1f}; last-layer activation std "
            + ", ".join(
                f"{n} {float(a[-1]):.2g}"
                for n, a in zip(names, np.asarray(acts).reshape(9, -1), strict=True)
            )
            + (
                "; trained test acc " + ", ".join(f"{k} {v:.3f}" for k, v in trained.items())
                if trained
                else ""
            )
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
