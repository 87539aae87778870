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

from jaxd2l import checks
from jaxd2l.data.batching import epoch_indices
from jaxd2l.parallel import DataParallel

Params = Any
Apply = Callable[[Params, jax.Array], jax.Array]
Loss = Callable[[jax.Array, jax.Array], jax.Array]  # (y_hat, y) -> per-example [B]
Metrics = Callable[[jax.Array, jax.Array], dict[str, jax.Array]]  # per-example values to sum
Prepare = Callable[[jax.Array], jax.Array]


class TrainState(NamedTuple):
    params: Params
    opt_state: optax.OptState


class StepModel(NamedTuple):
    apply: Apply
    loss: Loss
    metrics: Metrics | None
    owner: Callable


class Batch(NamedTuple):
    X: jax.Array  # [B, ...]
    y: jax.Array  # [B] (or [B, ...])
    mask: jax.Array  # [B] bool: False marks padding in the last batch of an epoch


def _check_tx(tx: Any, name: str = "tx") -> None:
    if not isinstance(tx, optax.GradientTransformation):
        raise TypeError(
            f"{name} must be an optax.GradientTransformation such as optax.sgd(0.1) or "
            f"jaxd2l.optim.sgd(0.1), got {type(tx).__name__}"
        )


def init_state(params: Params, tx: optax.GradientTransformation) -> TrainState:
    _check_tx(tx)
    return TrainState(params, tx.init(params))


def _per_example(values: jax.Array, batch_size: int, what: str) -> jax.Array:
    """Trace-time check (free at run time): one value per example, so the mask can weight
    them; a scalar would silently count the padding of the last batch."""
    if values.shape != (batch_size,):
        raise ValueError(
            f"{what} must return one value per example (shape [{batch_size}]), got shape "
            f"{tuple(values.shape)}: drop the final mean/sum (the step averages over the mask)"
        )
    return values


def batch_sums(
    y_hat: jax.Array, batch: Batch, loss: Loss, metrics: Metrics | None
) -> dict[str, jax.Array]:
    """Masked sums of the per-example loss and metrics, plus the example count.

    Sums (not means) so that epochs and evaluations weight every example equally;
    `summarize` divides by `count` at the end.
    """
    weights = batch.mask.astype(jnp.float32)
    B = batch.mask.shape[0]
    per_example = _per_example(loss(y_hat, batch.y), B, "the loss")
    sums = {"count": weights.sum(), "loss": (per_example * weights).sum()}
    if metrics is not None:
        for name, values in metrics(y_hat, batch.y).items():
            values = _per_example(values, B, f"the metric {name!r}")
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
    checks.callable_(apply, "apply")
    checks.callable_(loss, "loss")
    _check_tx(tx)
    if metrics is not None:
        checks.callable_(metrics, "metrics")

    def objective(params, batch):
        y_hat = apply(params, batch.X)
        sums = batch_sums(y_hat, batch, loss, metrics)
        return sums["loss"] / jnp.maximum(sums["count"], 1.0), sums

    def train_step(state: TrainState, batch: Batch):
        grads, sums = jax.grad(objective, has_aux=True)(state.params, batch)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state), sums

    step = jax.jit(train_step, donate_argnums=0) if jit else train_step
    # For fit's checks of the data. `jax.vmap(step)` copies these attributes, so `owner`
    # tells the step itself (unbatched state) from a wrapper of it.
    step.model = StepModel(apply, loss, metrics, owner=step)
    return step


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
    parallel: DataParallel | None = None,
) -> Callable:
    """`run_epoch(state, X, y, key) -> (state, sums)`: one shuffled pass as one `lax.scan`.

    X [N, ...] and y [N] stay on the device (pass them as arguments, never closures: closed-
    over arrays become compile-time constants). Each epoch draws a permutation from `key`,
    cuts it into batches and scans `train_step` over them; `prepare` maps a gathered raw
    batch (e.g. uint8 images) to model input. The last partial batch is padded and masked
    so every example counts once, unless `drop_remainder`. `sums` are totals over the
    epoch, or per batch stacked along axis 0 with `per_batch` (learning-rate curves); a
    vmapped `train_step` (trials) adds its trial axis after that.

    `parallel` (`jaxd2l.parallel.DataParallel`) shards each global batch of `batch_size`
    over its devices, which must divide it; the order of examples is the same on any
    number of devices. `loop.fit` places the state and data as `parallel` says.
    """
    checks.callable_(train_step, "train_step")
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    if parallel is not None:
        parallel.check_batch_size(batch_size)
    constrain = parallel.constrain_batches if parallel is not None else _identity
    run_prepare = prepare
    prepare = prepare or _identity

    def run_epoch(state, X, y, key):
        idx, mask = epoch_indices(key, X.shape[0], batch_size, drop_remainder)
        idx, mask = constrain(idx), constrain(mask)
        gather = _make_gather(X)

        def body(state, batch_idx):
            i, m = batch_idx
            return train_step(state, Batch(prepare(gather(i)), y[i], m))

        state, sums = jax.lax.scan(body, state, (idx, mask))
        if not per_batch:
            sums = jax.tree.map(lambda s: s.sum(axis=0), sums)
        return state, sums

    epoch = jax.jit(run_epoch, donate_argnums=0)
    # What `loop.fit` needs to check and place the data: this came from make_epoch.
    epoch.train_step, epoch.prepare, epoch.parallel = train_step, run_prepare, parallel
    epoch.batch_size, epoch.drop_remainder = batch_size, drop_remainder
    return epoch


def make_evaluate(
    apply: Apply,
    loss: Loss,
    metrics: Metrics | None = None,
    *,
    batch_size: int = 1024,
    prepare: Prepare | None = None,
    parallel: DataParallel | None = None,
) -> Callable:
    """`evaluate(params, X, y) -> sums` over a whole split on the device, exactly.

    Every example is counted once (the last batch is masked, not dropped), so accuracy is
    weighted by example count, not a mean of per-batch accuracies. With `parallel` the
    batches are sharded over its devices (the batch size rounded up to divide evenly).
    """
    checks.callable_(apply, "apply")
    checks.callable_(loss, "loss")
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    devices = parallel.num_devices if parallel is not None else 1
    constrain = parallel.constrain_batches if parallel is not None else _identity
    prepare = prepare or _identity

    def evaluate(params, X, y):
        size = min(batch_size, X.shape[0])
        size = -(-size // devices) * devices
        idx, mask = epoch_indices(None, X.shape[0], size)
        idx, mask = constrain(idx), constrain(mask)
        gather = _make_gather(X)

        def body(carry, batch_idx):
            i, m = batch_idx
            batch = Batch(prepare(gather(i)), y[i], m)
            return carry, batch_sums(apply(params, batch.X), batch, loss, metrics)

        _, sums = jax.lax.scan(body, None, (idx, mask))
        return jax.tree.map(lambda s: s.sum(axis=0), sums)

    return jax.jit(evaluate)


def with_seeds(
    init: Callable[[jax.Array], Params], tx: optax.GradientTransformation, keys: jax.Array
) -> TrainState:
    """A TrainState stacked over initialisations, one per key, for an ensemble trained with
    `jax.vmap(train_step, in_axes=(0, None))` on shared batches (as `with_learning_rates`
    stacks them over rates). `init(key) -> params`, e.g. `lambda k: mlp.init(k, sizes)`;
    `keys` from `jax.random.split(key, n)`. The optimizer state is stacked too (optax's
    `count` is per member), and `fit`'s history then holds one value per member."""
    _check_tx(tx)
    checks.callable_(init, "init")
    if not checks.is_key(keys) or keys.ndim != 1 or keys.shape[0] == 0:
        raise ValueError(
            "keys must be a non-empty 1-D array of PRNG keys from jax.random.split(key, n), "
            f"got {getattr(keys, 'shape', keys)}"
        )
    return jax.vmap(lambda k: init_state(init(k), tx))(keys)


def with_learning_rates(
    params: Params, tx_factory: Callable[..., optax.GradientTransformation], lrs: jax.Array
) -> tuple[optax.GradientTransformation, TrainState]:
    """One optimizer and a TrainState stacked over learning rates, for steps under `jax.vmap`.

    The learning rate moves into the optimizer state (`optax.inject_hyperparams`), so one
    compiled `vmap(train_step, in_axes=(0, None))` trains every rate on the same batches.
    `tx_factory` is the optimizer's constructor (`optax.sgd`, `jaxd2l.optim.sgd`), not an
    instance; `lrs` a non-empty 1-D list of rates.
    """
    if isinstance(tx_factory, optax.GradientTransformation):
        raise TypeError(
            "tx_factory must be an optimizer constructor such as optax.sgd (called with each "
            "learning rate), not an optimizer instance such as optax.sgd(0.1)"
        )
    checks.callable_(tx_factory, "tx_factory")
    lrs = jnp.asarray(lrs, jnp.float32)
    if lrs.ndim != 1 or lrs.shape[0] == 0:
        raise ValueError(
            f"lrs must be a non-empty 1-D list of learning rates, got shape {lrs.shape}"
        )
    for i, lr in enumerate(lrs.tolist()):
        checks.learning_rate(lr, f"lrs[{i}]")
    tx = optax.inject_hyperparams(tx_factory)(learning_rate=lrs[0])

    def one(lr):
        opt_state = tx.init(params)
        hyper = dict(opt_state.hyperparams, learning_rate=lr)
        return TrainState(params, opt_state._replace(hyperparams=hyper))

    return tx, jax.vmap(one)(lrs)
