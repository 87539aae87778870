"""The training step, the scanned epoch and the exact evaluation shared by every chapter.

d2l 3.4 (linear regression), 3.6/3.7 (softmax regression) and 4.2/4.3 (MLPs) all train
through `make_train_step` + `make_epoch`; `fit` (in `jaxd2l.loop`) drives epochs on the host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxd2l.data.batching import epoch_indices

Params = Any
Apply = Callable[[Params, jax.Array], jax.Array]
Loss = Callable[[jax.Array, jax.Array], jax.Array]  # (y_hat, y) -> per-example [B]
Metrics = Callable[[jax.Array, jax.Array], dict[str, jax.Array]]  # per-example values to sum
Prepare = Callable[[jax.Array], jax.Array]


class TrainState(NamedTuple):
    params: Params
    opt_state: optax.OptState


class Batch(NamedTuple):
    X: jax.Array  # [B, ...]
    y: jax.Array  # [B] (or [B, ...])
    mask: jax.Array  # [B] bool: False marks padding in the last batch of an epoch


def init_state(params: Params, tx: optax.GradientTransformation) -> TrainState:
    return TrainState(params, tx.init(params))


def batch_sums(
    y_hat: jax.Array, batch: Batch, loss: Loss, metrics: Metrics | None
) -> dict[str, jax.Array]:
    """Masked sums of the per-example loss and metrics, plus the example count.

    Sums (not means) so that epochs and evaluations weight every example equally;
    `summarize` divides by `count` at the end.
    """
    weights = batch.mask.astype(jnp.float32)
    sums = {"count": weights.sum(), "loss": (loss(y_hat, batch.y) * weights).sum()}
    if metrics is not None:
        for name, values in metrics(y_hat, batch.y).items():
            sums[name] = (values.astype(jnp.float32) * weights).sum()
    return sums


def summarize(sums: dict[str, Any]) -> dict[str, Any]:
    """Means per example from the sums of `batch_sums` (count itself is kept)."""
    count = sums["count"]
    return {k: (v if k == "count" else v / count) for k, v in sums.items()}


def make_train_step(
    apply: Apply,
    loss: Loss,
    tx: optax.GradientTransformation,
    metrics: Metrics | None = None,
    *,
    jit: bool = True,
) -> Callable[[TrainState, Batch], tuple[TrainState, dict[str, jax.Array]]]:
    """`train_step(state, batch) -> (state, sums)`: loss, gradient, update and metrics in one.

    The gradient is of the mean loss over the batch's unmasked examples. With `jit` the
    step is compiled with the state donated; `jit=False` gives the plain function (for
    `jax.vmap`, `lax.scan` bodies and debugging).
    """

    def objective(params, batch):
        y_hat = apply(params, batch.X)
        sums = batch_sums(y_hat, batch, loss, metrics)
        return sums["loss"] / jnp.maximum(sums["count"], 1.0), sums

    def train_step(state: TrainState, batch: Batch):
        grads, sums = jax.grad(objective, has_aux=True)(state.params, batch)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state), sums

    return jax.jit(train_step, donate_argnums=0) if jit else train_step


def _identity(X):
    return X


def _make_gather(X: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """`gather(i) -> X[i]` for index batches i, through X viewed as [N, features]: gathering
    whole rows is several times faster on CPU than gathering [28, 28, 1] slices, and the
    reshapes are free."""
    rows = X.reshape(X.shape[0], -1) if X.ndim > 2 else X
    return lambda i: rows[i].reshape(i.shape + X.shape[1:])


def make_epoch(
    train_step: Callable,
    batch_size: int,
    *,
    prepare: Prepare | None = None,
    drop_remainder: bool = False,
    per_batch: bool = False,
) -> Callable:
    """`run_epoch(state, X, y, key) -> (state, sums)`: one shuffled pass as one `lax.scan`.

    X [N, ...] and y [N] stay on the device (pass them as arguments, never closures: closed-
    over arrays become compile-time constants). Each epoch draws a permutation from `key`,
    cuts it into batches and scans `train_step` over them; `prepare` maps a gathered raw
    batch (e.g. uint8 images) to model input. The last partial batch is padded and masked
    so every example counts once, unless `drop_remainder`. `sums` are totals over the
    epoch, or per batch stacked along axis 0 with `per_batch` (learning-rate curves); a
    vmapped `train_step` (trials) adds its trial axis after that.
    """
    prepare = prepare or _identity

    def run_epoch(state, X, y, key):
        idx, mask = epoch_indices(key, X.shape[0], batch_size, drop_remainder)
        gather = _make_gather(X)

        def body(state, batch_idx):
            i, m = batch_idx
            return train_step(state, Batch(prepare(gather(i)), y[i], m))

        state, sums = jax.lax.scan(body, state, (idx, mask))
        if not per_batch:
            sums = jax.tree.map(lambda s: s.sum(axis=0), sums)
        return state, sums

    return jax.jit(run_epoch, donate_argnums=0)


def make_evaluate(
    apply: Apply,
    loss: Loss,
    metrics: Metrics | None = None,
    *,
    batch_size: int = 1024,
    prepare: Prepare | None = None,
) -> Callable:
    """`evaluate(params, X, y) -> sums` over a whole split on the device, exactly.

    Every example is counted once (the last batch is masked, not dropped), so accuracy is
    weighted by example count, not a mean of per-batch accuracies.
    """
    prepare = prepare or _identity

    def evaluate(params, X, y):
        idx, mask = epoch_indices(None, X.shape[0], min(batch_size, X.shape[0]))
        gather = _make_gather(X)

        def body(carry, batch_idx):
            i, m = batch_idx
            batch = Batch(prepare(gather(i)), y[i], m)
            return carry, batch_sums(apply(params, batch.X), batch, loss, metrics)

        _, sums = jax.lax.scan(body, None, (idx, mask))
        return jax.tree.map(lambda s: s.sum(axis=0), sums)

    return jax.jit(evaluate)


def with_learning_rates(
    params: Params, tx_factory: Callable[..., optax.GradientTransformation], lrs: jax.Array
) -> tuple[optax.GradientTransformation, TrainState]:
    """One optimizer and a TrainState stacked over learning rates, for `jax.vmap`ped steps.

    The learning rate moves into the optimizer state (`optax.inject_hyperparams`), so one
    compiled `vmap(train_step, in_axes=(0, None))` trains every rate on the same batches.
    """
    lrs = jnp.asarray(lrs, jnp.float32)
    tx = optax.inject_hyperparams(tx_factory)(learning_rate=lrs[0])

    def one(lr):
        opt_state = tx.init(params)
        hyper = dict(opt_state.hyperparams, learning_rate=lr)
        return TrainState(params, opt_state._replace(hyperparams=hyper))

    return tx, jax.vmap(one)(lrs)
