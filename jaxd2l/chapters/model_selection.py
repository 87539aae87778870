"""d2l 4.4-4.5 as whole runs that vmap: polynomial fits of every degree, K folds, and
weight decay at many strengths, each sweep one compiled program.

Variants that change shapes become masks over fixed shapes (DESIGN): degree d is the
feature mask `degree_mask(d)` over the 20 polynomial features, fold k the example weights
`fold_weights(n, K)[k]` over the same arrays (the epoch multiplies its batch mask by them),
and a penalty strength is a traced number. A run is `drivers.make_train`'s whole
run with an `observe` for the curves, a pure function of its key, so `jax.vmap` stacks
runs and `jax.jit` compiles the stack once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.checks.sweeps import grid
from jaxd2l.core.drivers import make_train
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.history import diverged_runs
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import Model, make_train_step
from jaxd2l.data.folds import fold_weights
from jaxd2l.data.polynomial import degree_mask
from jaxd2l.nn.losses import squared_error, squared_loss
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.regularization import decayed_sgd, l2_penalty


def polynomial_model(mask: jax.Array, sigma: float = 0.01) -> Model:
    """A linear model without bias over the masked features (d2l 4.4: the constant feature
    x^0 is the bias): `apply(params, X) = (X * mask) @ w`; masked weights stay at init and
    never matter."""

    def init(key):
        return {"w": sigma * jax.random.normal(key, mask.shape)}

    def apply(params, X, *, key=None):
        return (X * mask) @ params["w"]

    return Model(init, apply)


def _weighted_mean(values: jax.Array, weights: jax.Array) -> jax.Array:
    return (values * weights).sum() / jnp.maximum(weights.sum(), 1.0)


def make_polynomial_run(epochs: int, batch_size: int = 10, lr: float = 0.01) -> Callable:
    """`run(key, mask, weights, train, test) -> (params, curves)`: minibatch SGD on the MSE
    of the masked features, training on the examples weighted 1 by `weights` [N] (the
    engine's `make_train`). `curves` [epochs] per epoch: `train` (weighted train MSE), `val`
    (MSE on the examples weighted 0, the held-out fold; NaN-free 0 when there are none) and
    `test`."""

    def run(key, mask, weights, train, test):
        model = polynomial_model(mask)
        tx = sgd(lr)
        epoch = make_epoch(make_train_step(model.apply, squared_error, tx), batch_size)

        def observe(params, X, y, weights, X_test, y_test):
            errors = squared_error(model.apply(params, X), y)
            return {
                "train": _weighted_mean(errors, weights),
                "val": _weighted_mean(errors, 1.0 - weights),
                "test": squared_error(model.apply(params, X_test), y_test).mean(),
            }

        whole = make_train(model.init, tx, epoch, epochs, observe=observe)
        (X, y), (X_test, y_test) = train, test
        trained = whole(key, (X, y, weights), (X, y, weights, X_test, y_test))
        return trained.state.params, trained.observed

    return run


def check_degrees(degrees: Sequence[int], num_features: int) -> list[int]:
    """Feature counts, each an integer from 1 to `num_features`."""
    degrees = grid(degrees, "degrees", integer=True)
    for d in degrees:
        checks.integer(d, "degrees", minimum=1)
        if d > num_features:
            raise ArgumentError(f"degrees holds {d}, above the {num_features} features")
    return degrees


def degree_sweep(key, train, test, degrees, *, epochs: int, batch_size=10, lr=0.01):
    """Every degree in `degrees` (a feature count, 1 to 20) trained in one program: the run
    vmapped over feature masks. Returns (params stacked over degrees, curves [D, epochs]);
    `curves["diverged"]` [D] marks the members that broke the divergence rule."""
    degrees = check_degrees(degrees, train[0].shape[1])
    run = make_polynomial_run(epochs, batch_size, lr)
    masks = jnp.stack([degree_mask(d, train[0].shape[1]) for d in degrees])
    ones = jnp.ones(train[0].shape[0])
    swept = jax.vmap(run, in_axes=(None, 0, None, None, None))
    params, curves = jax.jit(swept)(key, masks, ones, train, test)
    w0 = polynomial_model(masks[0]).init(run_keys(key).init)["w"]  # the same draw for all
    untrained = jax.vmap(lambda m: squared_error((train[0] * m) @ w0, train[1]).mean())(masks)
    return params, {**curves, "diverged": diverged_runs(curves["train"], untrained).tolist()}


def cross_validate(key, train, degrees, *, num_folds: int, epochs: int, batch_size=10, lr=0.01):
    """K-fold cross-validation of every degree in one program (degrees x folds vmapped).
    Returns the validation MSE [D, K] after the last epoch and the chosen degree (lowest
    mean over the folds)."""
    degrees = check_degrees(degrees, train[0].shape[1])
    run = make_polynomial_run(epochs, batch_size, lr)
    masks = jnp.stack([degree_mask(d, train[0].shape[1]) for d in degrees])
    weights = fold_weights(train[0].shape[0], num_folds)
    over_folds = jax.vmap(run, in_axes=(None, None, 0, None, None))
    over_both = jax.jit(jax.vmap(over_folds, in_axes=(None, 0, None, None, None)))
    _, curves = over_both(key, masks, weights, train, train)  # no test split in CV
    val = curves["val"][:, :, -1]
    return val, int(jnp.asarray(degrees)[jnp.argmin(val.mean(axis=1))])


def make_decay_run(
    epochs: int, batch_size: int = 5, lr: float = 0.003, sigma: float = 1.0, concise=False
):
    """`run(key, lambd, train, test) -> (params, curves)`: d2l 4.5's linear regression with
    the penalty `lambd / 2 ||w||^2` (weights only), minibatch SGD on the squared loss, init
    w ~ N(0, sigma^2) as the book's scratch code; `concise` decays through optax's
    `add_decayed_weights` instead (the same trajectory). `curves` [epochs]: `train` and
    `test` loss (no penalty) and `w_norm` = ||w||."""
    from jaxd2l.models import linear

    def run(key, lambd, train, test):
        (X, y), (X_test, y_test) = train, test
        model = linear.model(X.shape[1], sigma)
        if concise:
            tx = decayed_sgd(lr, lambd, jax.eval_shape(model.init, run_keys(key).init))
            step = make_train_step(model.apply, squared_loss, tx)
        else:
            tx = sgd(lr)
            step = make_train_step(model.apply, squared_loss, tx, penalty=l2_penalty(lambd))

        def observe(params, X, y, X_test, y_test):
            return {
                "train": squared_loss(model.apply(params, X), y).mean(),
                "test": squared_loss(model.apply(params, X_test), y_test).mean(),
                "w_norm": jnp.linalg.norm(params["w"]),
            }

        whole = make_train(model.init, tx, make_epoch(step, batch_size), epochs, observe=observe)
        trained = whole(key, (X, y), (X, y, X_test, y_test))
        return trained.state.params, trained.observed

    return run


def decay_sweep(key, lambdas, train, test, **settings: Any):
    """Every penalty strength in `lambdas` in one program: (params, curves) stacked;
    `curves["diverged"]` [L] marks the members that broke the divergence rule."""
    values = grid(lambdas, "lambdas", minimum=0)
    run = make_decay_run(**settings)
    lambdas = jnp.asarray(values, jnp.float32)
    swept = jax.jit(jax.vmap(run, in_axes=(None, 0, None, None)))
    params, curves = swept(key, lambdas, train, test)
    from jaxd2l.models import linear

    model = linear.model(train[0].shape[1], settings.get("sigma", 1.0))
    untrained = squared_loss(model.apply(model.init(run_keys(key).init), train[0]), train[1])
    return params, {**curves, "diverged": diverged_runs(curves["train"], untrained.mean()).tolist()}


def timed(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """`fn(*args, **kwargs)` and its seconds, compilation included, waited for."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args, **kwargs))
    return out, time.perf_counter() - t0


def book_fit(key, train, test, degree: int, *, epochs: int, batch_size: int, lr: float):
    """One of d2l 4.4's fits (the first `degree` features), against the least-squares
    minimiser SGD moves towards. Returns (its figures, its train and test loss curves)."""
    (params, c), seconds = timed(
        degree_sweep, key, train, test, [degree], epochs=epochs, batch_size=batch_size, lr=lr
    )
    exact = np.linalg.lstsq(np.asarray(train[0][:, :degree]), np.asarray(train[1]))[0]
    fit = {
        "w": np.asarray(params["w"][0][:degree]),
        "closed_form_w": exact,
        "train": float(c["train"][0, -1]),
        "test": float(c["test"][0, -1]),
        "epochs": epochs,
        "seconds": seconds,
    }
    return fit, {k: np.asarray(c[k][0]) for k in ("train", "test")}
