"""d2l 4.5: weight decay, from scratch (an L2 penalty in the objective) and concise (optax).

    python -m experiments.weight_decay [--impl scratch|concise] [--lambdas 0,3]
        [--sweep 0.001,...,100] [--epochs 100] [--batch-size 5] [--lr 0.003] [--seed 0]

The book's data: 200 inputs, 20 training and 100 test examples, y = 0.05 + sum 0.01 x_i +
N(0, 0.01^2); w ~ N(0, 1), batch 5, lr 0.003, 100 epochs. lambda = 0 overfits (train loss
near zero, test loss high, ||w|| about 13); lambda = 3 brings the test loss down and ||w||
to about 0.4. Biases are never decayed. Beyond the book: every lambda of --sweep trained in
one program (vmap), test loss and ||w|| against lambda. Writes DIR/metrics.json (default
runs/weight_decay/<impl>), fits.png and sweep.png.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np

from jaxd2l import plot
from jaxd2l.chapters.model_selection import decay_sweep
from jaxd2l.cli import Run, SeedFlags, flag, run_cli
from jaxd2l.core.keys import run_keys
from jaxd2l.data.synthetic import high_dimensional_regression

SWEEP = tuple(float(v) for v in np.geomspace(1e-3, 100, 11).round(4))


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags):
    impl: str = flag(
        "scratch",
        "penalty in the objective, or optax's add_decayed_weights",
        choices=("scratch", "concise"),
    )
    lambdas: tuple[float, ...] = flag((0.0, 3.0), "the book's fits: penalty strengths", min=0)
    sweep: tuple[float, ...] = flag(SWEEP, "strengths trained at once (vmap)", min=0)
    epochs: int = flag(100, "passes over the 20 training examples", min=1, max=10**5)
    batch_size: int = flag(5, "examples per minibatch", min=1, max=2**24)
    lr: float = flag(0.003, "learning rate", gt=0)
    num_inputs: int = flag(200, "input dimension", min=1, max=10**5)


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    train, test = high_dimensional_regression(keys.data, num_inputs=config.num_inputs)
    settings = dict(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        concise=config.impl == "concise",
    )
    with Run("weight_decay", config, config.impl) as run:
        _, fits = decay_sweep(keys.root, config.lambdas, train, test, **settings)
        t0 = time.perf_counter()
        _, swept = jax.block_until_ready(
            decay_sweep(keys.root, config.sweep, train, test, **settings)
        )
        sweep_s = time.perf_counter() - t0
        final = {
            "fits": {
                f"{lam:g}": {k: float(fits[k][i, -1]) for k in ("train", "test", "w_norm")}
                for i, lam in enumerate(config.lambdas)
            },
            "sweep": {"lambda": config.sweep, **{k: swept[k][:, -1] for k in ("test", "w_norm")}},
            "sweep_seconds": sweep_s,
        }
        pairs = [*zip(config.lambdas, fits["diverged"], strict=True)]
        pairs += zip(config.sweep, swept["diverged"], strict=True)
        marks = {f"lambda {lam:g}": bad for lam, bad in pairs}
        run.refuse_diverged(final, marks, "penalty strengths")  # before figures of NaN
        if run.primary:
            panels = {
                f"lambda = {lam:g}": {k: fits[k][i] for k in ("train", "test")}
                for i, lam in enumerate(config.lambdas)
            }
            plot.save_loss_panels(panels, run.file("fits.png"))
            plot.save_lines(
                {"test loss": swept["test"][:, -1], "||w||": swept["w_norm"][:, -1]},
                run.file("sweep.png"),
                xlabel="lambda",
                ylabel="value",
                logy=True,
                x=config.sweep,
                logx=True,
            )
        summary = (
            f"weight_decay {config.impl}: "
            + "; ".join(
                f"lambda {lam}: train {f['train']:.3g}, test {f['test']:.3g}, "
                f"||w|| {f['w_norm']:.3g}"
                for lam, f in final["fits"].items()
            )
            + f"; {len(config.sweep)} lambdas in one program {sweep_s:.2f} s"
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
