"""d2l 3.1 / 3.4: squared (L2), L1 and Huber loss and their derivatives, in one figure.

    python -m experiments.losses [--out DIR] [--delta 1.0]

Each derivative is jax.vmap(jax.grad(loss)) over the residual. Writes DIR/losses.png and
DIR/metrics.json (default runs/losses) with the derivative values at a few residuals:
squared' = r, L1' = sign(r), Huber' = clip(r, -delta, delta). It also records the
cross-entropy on logits (1e4, 0, -1e4): the naive softmax-then-log gives inf or nan in
value or gradient, the log-sum-exp form stays finite (loss 0 or 2e4).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp

from jaxd2l import plot
from jaxd2l.cli import ExperimentConfig, Run, flag, run_cli
from jaxd2l.nn.activations import derivative
from jaxd2l.nn.losses import (
    cross_entropy,
    huber_loss,
    l1_loss,
    naive_softmax_cross_entropy,
    squared_loss,
)


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    delta: float = flag(1.0, "Huber's threshold between squared and linear", gt=0, max=1e6)
    span: float = flag(3.0, "plot residuals in [-span, span]", gt=0, max=1e6)


def loss_functions(delta: float):
    """Each loss as a scalar function of the residual r = y_hat - y."""
    zero = jnp.zeros(())
    return {
        "squared": lambda r: squared_loss(r, zero),
        "L1": lambda r: l1_loss(r, zero),
        f"Huber (delta={delta:g})": lambda r: huber_loss(r, zero, delta),
    }


def softmax_stability() -> dict:
    """d2l 3.7.2: naive softmax-then-log against log-sum-exp on logits of +-1e4."""
    logits = jnp.array([[1e4, 0.0, -1e4]])
    out = {}
    for name, fn in (("naive", naive_softmax_cross_entropy), ("stable", cross_entropy)):
        for label in (0, 2):
            y = jnp.array([label])
            value = float(fn(logits, y)[0])
            grad = jax.grad(lambda o, fn=fn, y=y: fn(o, y).sum())(logits)
            out[f"{name}_label{label}"] = {
                "loss": value,
                "loss_finite": bool(jnp.isfinite(value)),
                "grad_finite": bool(jnp.isfinite(grad).all()),
            }
    return out


def main(config: Config) -> dict:
    with Run("losses", config) as run:
        r = jnp.linspace(-config.span, config.span, 601)
        fns = loss_functions(config.delta)
        values = {name: f(r) for name, f in fns.items()}
        slopes = {name: derivative(f)(r) for name, f in fns.items()}
        plot.save_function_panels(
            r, {"loss": values, "derivative": slopes}, run.file("losses.png"), xlabel="y_hat - y"
        )
        probe = jnp.asarray([-2.0, -0.5, 0.5, 2.0])
        final = {
            "residuals": probe,
            "derivatives": {name: derivative(f)(probe) for name, f in fns.items()},
        }
        final["softmax_stability"] = softmax_stability()
        huber = functools.partial(huber_loss, delta=config.delta)
        final["huber_at_delta"] = float(huber(jnp.asarray(config.delta), jnp.zeros(())))
        return run.finish(final, f"losses: wrote {run.file('losses.png')}")


if __name__ == "__main__":
    run_cli(main, Config)
