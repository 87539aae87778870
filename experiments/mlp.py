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
import functools

import jax
import optax

from jaxd2l.activations import ACTIVATIONS
from jaxd2l.classification import optax_loss, run_fashion_experiment, scratch_loss
from jaxd2l.experiment import Run, TrainingFlags, check_config, flag, run_cli, seed_flag
from jaxd2l.models import concise, mlp
from jaxd2l.models.init import SCHEMES
from jaxd2l.optim import sgd


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags):
    impl: str = flag("scratch", "implementation", choices=("scratch", "concise"))
    hidden: tuple[int, ...] = flag((256,), "hidden layer widths, e.g. 256 or 256,128,64", min=1)
    activation: str = flag("relu", "hidden activation", choices=tuple(ACTIVATIONS))
    init: str = flag("normal", "weight initialisation", choices=SCHEMES)
    sigma: float = flag(0.01, "standard deviation of the normal init", gt=0)
    epochs: int = flag(10, "passes over the training set", min=1)
    batch_size: int = flag(256, "examples per minibatch", min=1)
    lr: float = flag(0.1, "learning rate", gt=0)
    seed: int = seed_flag()
    data_dir: str | None = flag(None, "folder with the four Fashion-MNIST IDX files")
    out: str | None = flag(None, "output folder (default runs/mlp/<impl>)")

    def __post_init__(self):
        check_config(self)


def first_layer_weights(impl: str, params):
    return params[0]["W"] if impl == "scratch" else params["Dense_0"]["kernel"]


def main(config: Config) -> dict:
    init_key = jax.random.fold_in(jax.random.key(config.seed), 1)
    sizes = (784, *config.hidden, 10)
    with Run("mlp", config, config.impl) as run:
        activation = ACTIVATIONS[config.activation]
        if config.impl == "scratch":
            model = mlp.model(sizes, activation=activation, scheme=config.init, sigma=config.sigma)
            params, apply = model.init(init_key), model.apply
            tx, loss = sgd(config.lr), scratch_loss()
        else:
            params, apply = concise.mlp(
                init_key, (28, 28, 1), config.hidden, 10, config.init, config.sigma, activation
            )
            tx, loss = optax.sgd(config.lr), optax_loss()
        run.record["architecture"] = "-".join(map(str, sizes))
        run.record["hidden_units_before"] = mlp.hidden_unit_spread(
            first_layer_weights(config.impl, params)
        )
        return run_fashion_experiment(
            run, config, params, apply, tx, loss, after=functools.partial(_symmetry, config.impl)
        )


def _symmetry(impl, run, params):
    """Record how alike the first layer's hidden units ended (zero init: identical)."""
    run.record["hidden_units_after"] = mlp.hidden_unit_spread(first_layer_weights(impl, params))


if __name__ == "__main__":
    run_cli(main, Config)
