"""d2l 4.1.1: the perceptron converges within its bound on separable data, and fails XOR.

    python -m experiments.perceptron [--num-examples 200] [--dim 2] [--margin 0.1]
        [--max-epochs 1000] [--seed 0] [--out DIR]

Expected: on separable data the number of updates is at most (r^2 + 1) / rho^2 (bias
folded in) and the training accuracy is 1.0; on XOR it hits the epoch cap with accuracy
<= 0.75 (no line separates XOR). Writes DIR/metrics.json (default runs/perceptron).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxd2l.cli import Run, SeedFlags, flag, run_cli
from jaxd2l.cli.flags import FlagError
from jaxd2l.models import perceptron


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags):
    num_examples: int = flag(200, "separable points", min=1, max=10**6)
    dim: int = flag(2, "input dimension", min=1, max=10**4)
    margin: float = flag(0.1, "minimum distance of a point from the separating plane", gt=0)
    max_epochs: int = flag(1000, "epoch cap", min=1, max=1_000_000)


def _fit(X, y, max_epochs):
    result = perceptron.train(X, y, max_epochs)
    acc = float(jnp.mean(perceptron.apply(result.params, X) == y))
    return result, {
        "updates": int(result.updates),
        "epochs": int(result.epochs),
        "converged": bool(result.converged),
        "accuracy": acc,
    }


def main(config: Config) -> dict:
    with Run("perceptron", config) as run:
        try:
            X, y, rho, r = perceptron.separable_data(
                jax.random.key(config.seed), config.num_examples, config.dim, config.margin
            )
        except ValueError as e:
            raise FlagError(f"--margin: {e}") from None
        _, separable = _fit(X, y, config.max_epochs)
        bound = float(perceptron.convergence_bound(rho, r))
        separable.update(
            {
                "rho": float(rho),
                "r": float(r),
                "bound": bound,
                "within_bound": separable["updates"] <= bound,
            }
        )
        _, xor = _fit(perceptron.XOR_X, perceptron.XOR_Y, config.max_epochs)
        final = {"separable": separable, "xor": xor}
        summary = (
            f"perceptron: separable data {separable['updates']} updates <= bound {bound:.1f} "
            f"(acc {separable['accuracy']:.2f}); XOR {xor['updates']} updates, "
            f"converged {xor['converged']}, acc {xor['accuracy']:.2f}"
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
