"""d2l 4.10: predicting house prices. K-fold cross-validation as one program, a grid of
learning rate x weight decay x folds as one program per model, and an ensemble of the K
fold models done right (each fold's own parameters, averaged in log space).

Folds are example weights over the same arrays (`data.folds.fold_weights`), a run is a
pure function of its key, fold weights and hyperparameters, and `jax.vmap` stacks runs.
The metric is the competition's: the RMSE of log prices (predictions clamped at 1, as the
book does). The book's pipeline (d2l-zh) regresses the price itself with Adam at lr 5;
`target="log"` regresses log prices instead (then a far smaller lr fits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.checks import files
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.checks.sweeps import grid
from jaxd2l.core import history
from jaxd2l.core.drivers import make_train
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.history import diverged_runs
from jaxd2l.core.keys import RunKeys, run_keys
from jaxd2l.core.step import Model, init_state, make_train_step, summarize
from jaxd2l.data.folds import fold_weights
from jaxd2l.models import linear, mlp
from jaxd2l.nn.losses import squared_error
from jaxd2l.nn.regularization import decay_mask

TARGETS = ("price", "log")


def make_model(name: str, num_features: int, hidden: Sequence[int] = (64,), dropout=()) -> Model:
    """`linear` (the book's) or an `mlp` with `hidden` widths and `dropout`: one output per
    house, shape [B]."""
    if name == "linear":
        return linear.model(num_features)
    if name != "mlp":
        raise ArgumentError(f"model must be 'linear' or 'mlp', got {name!r}")
    net = mlp.model((num_features, *hidden, 1), scheme="he", dropout=dropout)
    return Model(net.init, lambda params, X, *, key=None: net.apply(params, X, key=key)[:, 0])


def to_log_price(y_hat: jax.Array, target: str) -> jax.Array:
    """Model outputs as log prices: the log of a price clamped at 1 (the book's log_rmse),
    or the output itself for a log-price model."""
    return jnp.log(jnp.clip(y_hat, 1.0, None)) if target == "price" else y_hat


def log_rmse(log_pred: jax.Array, log_price: jax.Array, weights: jax.Array | None = None):
    """The competition's metric: sqrt(mean((log pred - log price)^2)), over `weights`."""
    err = (log_pred - log_price) ** 2
    if weights is None:
        return jnp.sqrt(err.mean())
    return jnp.sqrt((err * weights).sum() / jnp.maximum(weights.sum(), 1.0))


def adam(lr, weight_decay, params) -> optax.GradientTransformation:
    """Adam with weight decay added to the gradient (as torch's `Adam(weight_decay=...)`),
    masked to the weights: biases are not decayed."""
    return optax.chain(
        optax.add_decayed_weights(weight_decay, mask=decay_mask(params)), optax.adam(lr)
    )


def training(
    model: Model, keys: RunKeys, lr: float, weight_decay: float, batch_size: int, parallel=None
):
    """(state, epoch) to train `model` on log prices with `fit` (the final retrain on all
    the data): the same optimizer, loss and batches as a fold's run from the same keys."""
    params = model.init(keys.init)
    tx = adam(lr, weight_decay, params)
    step = make_train_step(model.apply, squared_error, tx)
    state = init_state(params, tx, keys.train)
    return state, make_epoch(step, batch_size, parallel=parallel)


def make_house_run(model: Model, *, target: str, epochs: int, batch_size: int = 64) -> Callable:
    """`run(key, lr, weight_decay, weights, X, log_price) -> (params, curves)`: Adam with
    weight decay on the weights (biases not decayed), MSE on the target, training on the
    examples weighted 1. `curves` [epochs]: `train` and `val` log-RMSE (val on the examples
    weighted 0, the held-out fold), `loss` the training loss and `untrained` (a scalar) the
    untrained model's first-batch loss, for the drivers' divergence rule."""
    if target not in TARGETS:
        raise ArgumentError(f"target must be one of {TARGETS}, got {target!r}")

    def run(key, lr, weight_decay, weights, X, log_price):
        tx = adam(lr, weight_decay, jax.eval_shape(model.init, run_keys(key).init))
        y = jnp.exp(log_price) if target == "price" else log_price
        epoch = make_epoch(make_train_step(model.apply, squared_error, tx), batch_size)

        def observe(params, X, log_price, weights):
            log_pred = to_log_price(model.apply(params, X), target)
            return {
                "train": log_rmse(log_pred, log_price, weights),
                "val": log_rmse(log_pred, log_price, 1.0 - weights),
            }

        whole = make_train(model.init, tx, epoch, epochs, observe=observe)
        trained = whole(key, (X, y, weights), (X, log_price, weights))
        loss = summarize(trained.train)["loss"]
        curves = {**trained.observed, "loss": loss, "untrained": trained.untrained}
        return trained.state.params, curves

    return run


def kfold(key, run: Callable, X, log_price, *, num_folds: int, lr: float, weight_decay: float):
    """The K folds of one configuration in one program: (params stacked over folds,
    curves [K, epochs])."""
    weights = fold_weights(X.shape[0], num_folds)
    folds = jax.vmap(run, in_axes=(None, None, None, 0, None, None))
    return jax.jit(folds)(key, jnp.float32(lr), jnp.float32(weight_decay), weights, X, log_price)


def grid_values(key, run: Callable, X, log_price, *, num_folds: int, lrs, weight_decays):
    """Every (lr, weight decay, fold) of one model in one program: (the final validation
    log-RMSE [len(lrs), len(weight_decays), K], whether each cell diverged [lrs, wds]: a
    fold broke the drivers' rule or ended with a validation loss that is not finite)."""
    weights = fold_weights(X.shape[0], num_folds)
    over = jax.vmap(run, in_axes=(None, None, None, 0, None, None))  # folds
    over = jax.vmap(over, in_axes=(None, None, 0, None, None, None))  # weight decays
    over = jax.vmap(over, in_axes=(None, 0, None, None, None, None))  # learning rates
    lrs = jnp.asarray(grid(lrs, "lrs", above=0), jnp.float32)
    wds = jnp.asarray(grid(weight_decays, "weight_decays", minimum=0), jnp.float32)
    _, curves = jax.device_get(jax.jit(over)(key, lrs, wds, weights, X, log_price))
    val = np.asarray(curves["val"][..., -1])
    broke = diverged_runs(curves["loss"], curves["untrained"]) | ~np.isfinite(val)
    return val, broke.any(axis=-1)


def predict_log(model: Model, params, X, target: str) -> jax.Array:
    """Log prices predicted by one model (evaluation: no dropout)."""
    return to_log_price(model.apply(params, X), target)


def ensemble_log(model: Model, stacked_params, X, target: str) -> jax.Array:
    """The K fold models' mean prediction in log space: each fold with its own parameters
    (the d2l JAX edition averages the last fold's model K times)."""
    per_model = jax.vmap(lambda p: predict_log(model, p, X, target))(stacked_params)
    return per_model.mean(axis=0)


def fold_figures(curves, num_folds: int) -> list[dict[str, float]]:
    """The last epoch's train and val log-RMSE of every fold."""
    return [{k: float(curves[k][i, -1]) for k in ("train", "val")} for i in range(num_folds)]


def search(key, X, log_price, *, num_folds, lrs, weight_decays, hidden, dropout, **settings):
    """The grid over model (linear, MLP) x lr x weight decay x folds on log prices, one
    program per model. Returns ({model: mean val log-RMSE [lrs, wds]}, the best
    configuration as a dict with the grid's diverged cells under "diverged"). A cell whose
    folds diverged (the drivers' rule, or a validation loss that is not finite) never wins.

    Raises:
      DivergedError: every cell diverged.
    """
    grid, broke = {}, {}
    for name in ("linear", "mlp"):
        model = make_model(name, X.shape[1], hidden, dropout)
        run = make_house_run(model, target="log", **settings)
        axes = {"lrs": lrs, "weight_decays": weight_decays}
        val, broke[name] = grid_values(key, run, X, log_price, num_folds=num_folds, **axes)
        grid[name] = val.mean(axis=-1)
    diverged = [
        f"{name} lr {lrs[i]:g} weight decay {weight_decays[j]:g}"
        for name, cells in broke.items()
        for i, j in zip(*np.nonzero(cells), strict=True)
    ]
    scores = {n: np.where(broke[n], np.inf, v) for n, v in grid.items()}
    name = min(scores, key=lambda n: scores[n].min())
    if not np.isfinite(scores[name].min()):  # every cell broke the rule
        every = "every configuration of the grid"
        cells = dict.fromkeys(diverged, True)
        history.check_members(cells, "cells", "lower the learning rates `lrs`", every=every)
    i, j = np.unravel_index(np.argmin(scores[name]), scores[name].shape)
    best = {
        "model": name,
        "lr": float(lrs[int(i)]),
        "weight_decay": float(weight_decays[int(j)]),
        "val": float(grid[name][i, j]),
        "diverged": diverged,
    }
    return grid, best


def diverged_folds(curves: dict[str, Any]) -> dict[str, bool]:
    """Which of the K folds (`book_folds`' curves) broke the drivers' rule, or ended with a
    log-RMSE that is not finite."""
    curves = jax.device_get(curves)
    final = np.stack([np.asarray(curves[k])[:, -1] for k in ("train", "val")], axis=-1)
    broke = diverged_runs(curves["loss"], curves["untrained"]) | ~np.isfinite(final).all(-1)
    return {f"fold {i + 1}": bool(b) for i, b in enumerate(broke)}


def book_folds(key, X, price, *, num_folds: int, lr: float, weight_decay: float, **settings):
    """The book's K-fold run (linear regression on the price, Adam), all folds in one
    program: (curves, per-fold final log-RMSE, their mean)."""
    run = make_house_run(make_model("linear", X.shape[1]), target="price", **settings)
    _, curves = kfold(key, run, X, price, num_folds=num_folds, lr=lr, weight_decay=weight_decay)
    folds = fold_figures(curves, num_folds)
    mean = {k: float(np.mean([f[k] for f in folds])) for k in ("train", "val")}
    return curves, folds, mean


def ensemble_predict(key, model: Model, X, log_price, X_test, best, *, num_folds, **settings):
    """The chosen configuration's K fold models (trained as one program, on log prices),
    averaged in log space on `X_test`."""
    run = make_house_run(model, target="log", **settings)
    lr, wd = best["lr"], best["weight_decay"]
    params, _ = kfold(key, run, X, log_price, num_folds=num_folds, lr=lr, weight_decay=wd)
    return ensemble_log(model, params, X_test, "log")


def write_submission(ids, prices, path: str) -> None:
    """The competition's format: `Id,SalePrice`, one row per test house, positive prices."""
    import csv

    prices = jax.device_get(prices)
    if len(ids) != len(prices) or not (prices > 0).all():
        raise ArgumentError("a submission needs one positive price per test Id")
    with files.atomic_open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Id", "SalePrice"])
        writer.writerows((int(i), float(p)) for i, p in zip(ids, prices, strict=True))
