"""d2l 4.1.2: ReLU, sigmoid and tanh with their derivatives, by jax.vmap(jax.grad(f)).

    python -m experiments.activations [--span 8] [--out DIR]

Writes DIR/activations.png (the six curves) and DIR/metrics.json (default
runs/activations) with the largest gap between each autodiff derivative and its closed
form (sigmoid' = s(1 - s), tanh' = 1 - tanh^2, ReLU' = step): expected below 1e-6.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from jaxd2l import plot
from jaxd2l.cli import ExperimentConfig, Run, flag, run_cli
from jaxd2l.nn.activations import ACTIVATIONS, derivative, relu, sigmoid, tanh


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    span: float = flag(8.0, "plot x in [-span, span]", gt=0, max=1e6)


CLOSED_FORMS = {
    "relu": lambda x: (x > 0).astype(jnp.float32),
    "sigmoid": lambda x: sigmoid(x) * (1 - sigmoid(x)),
    "tanh": lambda x: 1 - tanh(x) ** 2,
}


def main(config: Config) -> dict:
    with Run("activations", config) as run:
        x = jnp.linspace(-config.span, config.span, 801)
        panels, gaps = {}, {}
        for name, f in ACTIVATIONS.items():
            grad = derivative(f)(x)
            panels[name] = {name: f(x), f"d {name}/dx": grad}
            gaps[name] = float(jnp.max(jnp.abs(grad - CLOSED_FORMS[name](x))))
        plot.save_function_panels(x, panels, run.file("activations.png"))
        final = {"max_derivative_error": gaps, "relu_at_0": float(relu(jnp.zeros(())))}
        worst = float(np.max(list(gaps.values())))  # NaN stays NaN, never 0
        return run.finish(final, f"activations: largest derivative error {worst:.1e}")


if __name__ == "__main__":
    run_cli(main, Config)
