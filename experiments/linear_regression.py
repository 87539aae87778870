"""d2l 3.1-3.5: linear regression from scratch, concise (flax Linen or NNX), in closed form.

    python -m experiments.linear_regression --impl scratch|concise|nnx|closed_form [--epochs 3]
        [--batch-size 10] [--lr 0.03] [--seed 0] [--out DIR] [--lrs 0.03,0.3]

Every impl recovers w = [2, -3.4], b = 4.2 within 0.01 (loss about 5e-5). Writes metrics.json
(default runs/linear_regression/<impl>), scatter.png and, with --lrs, lr_curves.png: the rates
vmapped on the same batches (0.001 crawls, 0.3 converges; 3 diverges: exit 1 unless
--no-stop-on-divergence).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import optax

from jaxd2l import plot
from jaxd2l.chapters.linear_regression import from_concise, lr_sweep, score, solve_timed
from jaxd2l.cli import Run, TrainingFlags, fit_and_record, flag, run_cli, training_setup, when
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression
from jaxd2l.models import linear
from jaxd2l.nn.losses import squared_loss
from jaxd2l.nn.optim import sgd

SGD_OR_LRS = (
    "--impl scratch, concise or nnx, or --lrs",
    lambda c: c.impl != "closed_form" or c.lrs,
)


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags):
    impl: str = flag("scratch", "how", choices=("scratch", "concise", "nnx", "closed_form"))
    epochs: int = flag(3, "passes over the data", min=1, max=10**5, needs=SGD_OR_LRS)
    batch_size: int = flag(10, "examples per minibatch", min=1, max=2**24, needs=SGD_OR_LRS)
    lr: float = flag(0.03, "learning rate", gt=0, needs=when("impl", "scratch", "concise", "nnx"))
    num_examples: int = flag(1000, "synthetic examples", min=2, max=10**7)
    noise: float = flag(0.01, "label noise standard deviation", min=0)
    lrs: tuple[float, ...] = flag((), "learning rates to train at once (vmap)", gt=0, empty_ok=True)

    def check(self) -> None:
        super().check()
        if self.impl == "closed_form":
            self.refuse_fit_flags("--impl closed_form trains nothing")


def train_by_sgd(run, config, X, y, keys):
    """Minibatch SGD through the shared runner; params in the scratch layout (w [d], b)."""
    if config.impl == "scratch":
        model, tx = linear.model(X.shape[1]), sgd(config.lr)
    else:
        from jaxd2l.models import concise_impl  # flax (Linen or NNX) loads only for these

        model, tx = concise_impl(config.impl).linear_regression(X.shape[1]), optax.sgd(config.lr)
    parallel, checkpoint = training_setup(config)
    run_epoch = make_epoch(
        make_train_step(model.apply, squared_loss, tx), config.batch_size, parallel=parallel
    )
    state = init_state(model.init(keys.init), tx, keys.train)
    result = fit_and_record(
        run,
        state,
        run_epoch,
        (X, y),
        config.epochs,
        checkpoint=checkpoint,
        stop_on_divergence=config.stop_on_divergence,
    )
    params = jax.device_get(result.params)
    return params if config.impl == "scratch" else from_concise(params)


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    X, y = synthetic_regression(keys.data, TRUE_W, TRUE_B, config.num_examples, config.noise)
    with Run("linear_regression", config, config.impl) as run:
        if run.primary:
            plot.save_scatter(
                X[:, 1], y, run.file("scatter.png"), xlabel="feature 2", ylabel="label"
            )
        if config.impl == "closed_form":
            params, timing = solve_timed(X, y)
            run.record["timing"].update(timing)
        else:
            params = train_by_sgd(run, config, X, y, keys)
        extra = {}
        if config.lrs:
            sweep = dict(init_key=keys.init, train_key=keys.train, batch_size=config.batch_size)
            curves, extra["lr_sweep"] = lr_sweep(X, y, config.lrs, epochs=config.epochs, **sweep)
            labelled = {f"lr={lr}": c for lr, c in curves.items()}
            path, axes = run.file("lr_curves.png"), ("minibatch step", "minibatch loss")
            plot.save_lines(labelled, path, xlabel=axes[0], ylabel=axes[1], logy=True)
            marks = {f"lr {lr}": v["diverged"] for lr, v in extra["lr_sweep"].items()}
            if config.stop_on_divergence:  # the curves and record kept, then exit 1
                run.record.update(extra)
                run.refuse_diverged({}, marks, "learning rates of --lrs")
        final = {**score(params, X, y), **params}
        summary = (
            f"linear_regression {config.impl}: loss {final['loss']:.3g}, "
            f"w_err {np.round(final['w_err'], 4)}, b_err {final['b_err']:.4f}"
        )
        if config.impl != "closed_form":  # the exact least-squares answer, for comparison
            exact = linear.closed_form(X, y)
            final["closed_form"] = {**exact, "loss": score(exact, X, y)["loss"]}
            summary += f" (closed form: loss {final['closed_form']['loss']:.3g})"
        return run.finish(final, summary, **extra)


if __name__ == "__main__":
    run_cli(main, Config)
