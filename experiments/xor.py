"""d2l 4.1: XOR, which no line separates, solved by a one-hidden-layer MLP.

    python -m experiments.xor [--hidden 8] [--steps 500] [--lr 0.1] [--seed 0] [--out DIR]

Full-batch training of 2-H-2 (tanh) with jax.grad and optax.adam on the four points.
Expected: accuracy 1.0. Writes DIR/metrics.json (default runs/xor) and DIR/xor.png (the
decision regions).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l import plot
from jaxd2l.cli import Run, SeedFlags, flag, run_cli
from jaxd2l.core import history
from jaxd2l.core.step import Batch, init_state, make_train_step
from jaxd2l.models import mlp
from jaxd2l.models.init import weight
from jaxd2l.models.perceptron import XOR_X, XOR_Y
from jaxd2l.nn.activations import tanh
from jaxd2l.nn.losses import cross_entropy


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags):
    hidden: int = flag(8, "hidden units", min=2, max=65536)
    steps: int = flag(500, "full-batch steps", min=1, max=10_000_000)
    lr: float = flag(0.1, "Adam learning rate", gt=0)


def apply(params, X):
    return mlp.apply(params, X, activation=tanh)


def train_xor(config: Config):
    """(params, per-step losses): a 2-H-2 tanh MLP, Xavier init, Adam, scanned steps."""
    keys = jax.random.split(jax.random.key(config.seed), 2)
    params = [
        {"W": weight(keys[0], (2, config.hidden), "xavier"), "b": jnp.zeros(config.hidden)},
        {"W": weight(keys[1], (config.hidden, 2), "xavier"), "b": jnp.zeros(2)},
    ]
    tx = optax.adam(config.lr)
    step = make_train_step(apply, cross_entropy, tx)
    batch = Batch(XOR_X, (XOR_Y > 0).astype(jnp.int32), jnp.ones(4, bool))

    @jax.jit
    def run(state):
        return jax.lax.scan(lambda s, _: step(s, batch), state, None, length=config.steps)

    state, sums = run(init_state(params, tx, jax.random.key(config.seed)))  # no shuffling
    losses = np.asarray(sums["loss"] / sums["count"])
    # the rule of every driver, a full-batch step as an epoch
    history.check_curve(losses, losses[0], unit="step", fix="lower --lr")
    return state.params, losses


def main(config: Config) -> dict:
    with Run("xor", config) as run:
        params, losses = train_xor(config)
        labels = (XOR_Y > 0).astype(jnp.int32)
        preds = jnp.argmax(apply(params, XOR_X), axis=-1)
        acc = float(jnp.mean(preds == labels))
        grid = jnp.linspace(-0.5, 1.5, 101)
        G = jnp.stack(jnp.meshgrid(grid, grid), -1).reshape(-1, 2)
        region = np.asarray(jax.nn.softmax(apply(params, G))[:, 1]).reshape(101, 101)
        plot.save_lines(
            {"loss": np.asarray(losses)},
            run.file("loss.png"),
            xlabel="step",
            ylabel="cross-entropy",
            logy=True,
        )
        plot.save_heatmap(
            region,
            run.file("xor.png"),
            extent=(-0.5, 1.5, -0.5, 1.5),
            points=np.asarray(XOR_X),
            point_labels=np.asarray(labels),
        )
        final = {"accuracy": acc, "loss": float(losses[-1]), "predictions": preds}
        return run.finish(final, f"xor: accuracy {acc:.2f}, final loss {float(losses[-1]):.2e}")


if __name__ == "__main__":
    run_cli(main, Config)
