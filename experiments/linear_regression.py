"""d2l 3.1-3.5: linear regression from scratch, concise (flax + optax), and in closed form.

    python -m experiments.linear_regression --impl scratch|concise|closed_form
        [--epochs 3] [--batch-size 10] [--lr 0.03] [--seed 0] [--out DIR]
        [--lrs 0.001,0.03,0.3,3]

Expected: every impl recovers w = [2, -3.4] and b = 4.2 within 0.01 (loss about 5e-5).
Writes DIR/metrics.json (default runs/linear_regression/<impl>), DIR/scatter.png and, with
--lrs, DIR/lr_curves.png: every rate trained at once with jax.vmap on the same batches
(0.001 crawls, 0.03 and 0.3 converge, 3 diverges).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l import loop, plot, progress
from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression
from jaxd2l.experiment import (
    Run,
    TrainingFlags,
    check_config,
    flag,
    run_cli,
    seed_flag,
    training_setup,
)
from jaxd2l.losses import squared_loss
from jaxd2l.models import concise, linear
from jaxd2l.optim import sgd
from jaxd2l.train import init_state, make_epoch, make_train_step, with_learning_rates


@dataclasses.dataclass(frozen=True)
class Config(TrainingFlags):
    impl: str = flag("scratch", "implementation", choices=("scratch", "concise", "closed_form"))
    epochs: int = flag(3, "passes over the data", min=1)
    batch_size: int = flag(10, "examples per minibatch", min=1)
    lr: float = flag(0.03, "learning rate", gt=0)
    seed: int = seed_flag()
    num_examples: int = flag(1000, "synthetic examples", min=2)
    noise: float = flag(0.01, "label noise standard deviation", min=0)
    lrs: tuple[float, ...] = flag((), "learning rates to train at once (vmap)", gt=0, empty_ok=True)
    out: str | None = flag(None, "output folder (default runs/linear_regression/<impl>)")

    def __post_init__(self):
        check_config(self)


def _train(config, X, y, init_key, train_key, run):
    if config.impl == "scratch":
        params, apply, tx = linear.init(init_key, X.shape[1]), linear.apply, sgd(config.lr)
    else:
        params, apply = concise.linear_regression(init_key, X.shape[1])
        tx = optax.sgd(config.lr)
    parallel, checkpoint = training_setup(config)
    step = make_train_step(apply, squared_loss, tx, jit=False)
    run_epoch = make_epoch(step, config.batch_size, parallel=parallel)
    callbacks = [run.on_epoch]
    if run.primary:
        callbacks.insert(0, progress.EpochPrinter(config.epochs))
    with checkpoint or contextlib.nullcontext():
        result = loop.fit(
            init_state(params, tx),
            run_epoch,
            (X, y),
            train_key,
            config.epochs,
            callbacks=callbacks,
            checkpoint=checkpoint,
        )
    params = jax.device_get(result.params)
    if config.impl == "concise":  # report in the scratch layout: w [d], b scalar
        dense = params["Dense_0"]
        return {"w": dense["kernel"][:, 0], "b": dense["bias"][0]}, result.timing
    return params, result.timing


def _closed_form(X, y):
    t0 = time.perf_counter()
    solve = jax.jit(linear.closed_form).lower(X, y).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    params = jax.block_until_ready(solve(X, y))
    solve_s = time.perf_counter() - t0
    timing = {"compile_s": compile_s, "epoch_s": [], "solve_s": solve_s}
    return params, timing


def lr_sweep(config, X, y, init_key, train_key) -> dict[str, list[float]]:
    """Train every rate in `config.lrs` at once: one vmapped step, shared batches.

    Returns the per-minibatch loss curve of each rate; a diverging rate gives inf/nan
    values instead of an error.
    """
    params = linear.init(init_key, X.shape[1])
    tx, states = with_learning_rates(params, sgd, jnp.asarray(config.lrs))
    step = jax.vmap(make_train_step(linear.apply, squared_loss, tx, jit=False), in_axes=(0, None))
    run_epoch = make_epoch(step, config.batch_size, per_batch=True)
    curves = []
    for epoch in range(config.epochs):
        states, sums = run_epoch(states, X, y, jax.random.fold_in(train_key, epoch))
        curves.append(np.asarray(sums["loss"] / sums["count"]))  # [batches, rates]
    curves = np.concatenate(curves).T
    return {str(lr): curve.tolist() for lr, curve in zip(config.lrs, curves, strict=True)}


def main(config: Config) -> dict:
    root = jax.random.key(config.seed)
    data_key, init_key, train_key = (jax.random.fold_in(root, i) for i in range(3))
    X, y = synthetic_regression(data_key, TRUE_W, TRUE_B, config.num_examples, config.noise)
    with Run("linear_regression", config, config.impl) as run:
        if run.primary:
            plot.save_scatter(
                X[:, 1], y, run.file("scatter.png"), xlabel="feature 2", ylabel="label"
            )
        if config.impl == "closed_form":
            params, timing = _closed_form(X, y)
        else:
            params, timing = _train(config, X, y, init_key, train_key, run)
        run.record["timing"].update(timing)
        extra = {}
        if config.lrs:
            curves = lr_sweep(config, X, y, init_key, train_key)
            plot.save_lines(
                {f"lr={lr}": c for lr, c in curves.items()},
                run.file("lr_curves.png"),
                xlabel="minibatch step",
                ylabel="minibatch loss",
                logy=True,
            )
            extra["lr_sweep"] = {
                lr: {"final_loss": c[-1], "diverged": not np.isfinite(c[-1]) or c[-1] > c[0]}
                for lr, c in curves.items()
            }
        w_err = np.asarray(TRUE_W) - np.asarray(params["w"])
        b_err = TRUE_B - float(params["b"])
        loss = float(jnp.mean(squared_loss(linear.apply(params, X), y)))
        final = {
            "loss": loss,
            "w_err": w_err.tolist(),
            "b_err": b_err,
            "w": params["w"],
            "b": params["b"],
        }
        summary = (
            f"linear_regression {config.impl}: loss {loss:.3g}, "
            f"w_err {np.array2string(w_err, precision=4)}, b_err {b_err:.4f}"
        )
        if config.impl != "closed_form":  # the exact least-squares answer, for comparison
            exact = linear.closed_form(X, y)
            exact_loss = float(jnp.mean(squared_loss(linear.apply(exact, X), y)))
            final["closed_form"] = {"w": exact["w"], "b": exact["b"], "loss": exact_loss}
            summary += f" (closed form: loss {exact_loss:.3g})"
        return run.finish(final, summary, **extra)


if __name__ == "__main__":
    run_cli(main, Config)
