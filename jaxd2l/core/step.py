"""The model contract and the training step shared by every chapter.

`Model(init, apply)` is a pair of pure functions, `init(key) -> params` and `apply(params,
X, *, key=None) -> output` batched over the leading axis (`key=None`: evaluation; training
passes each batch a key, for dropout). d2l 3.4, 3.6/3.7 and 4.2/4.3 all train through
`make_train_step`, scanned over an epoch by `jaxd2l.core.epoch`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.checks.signatures import name_of, shape_of
from jaxd2l.core.keys import epoch_key

Params = Any
Apply = Callable[..., jax.Array]  # apply(params, X, *, key=None) -> output


class Model(NamedTuple):
    """A model as its pair of pure functions (stax's `(init_fun, apply_fun)`, as a value)."""

    init: Callable[[jax.Array], Params]
    """`init(key) -> params`: a pytree of arrays."""
    apply: Apply
    """`apply(params, X, *, key=None) -> output`, batched over X's leading axis; `key=None`
    evaluates (no dropout)."""


def takes_key(apply: Callable) -> Callable:
    """`apply` as `apply(params, X, *, key=None)`: returned as it is when it takes `key`,
    else wrapped to drop the key, so a researcher's `lambda params, X: ...` trains too."""
    try:
        parameters = inspect.signature(apply).parameters
    except (TypeError, ValueError):  # builtins, some C callables: assume the contract
        return apply
    if "key" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return apply

    @functools.wraps(apply)  # a refusal names the caller's function
    def apply_without_key(params, X, *, key=None):
        return apply(params, X)

    return apply_without_key


Loss = Callable[[jax.Array, jax.Array], jax.Array]  # (y_hat, y) -> per-example [B]
Metrics = Callable[[jax.Array, jax.Array], dict[str, jax.Array]]  # per-example values to sum
Sums = dict[str, jax.Array]


class TrainState(NamedTuple):
    """What a run carries from one epoch to the next (flax's `TrainState` carries `step`).

    Everything random in epoch e is a function of (`key`, e): its permutation is drawn from
    `keys.epoch_key(key, e)` and batch b's model key from `keys.batch_key` of that, so the
    state alone says what the next epoch draws, in every remainder mode and every driver,
    and a checkpoint of the state resumes the same numbers. A stack of states (`with_seeds`,
    `with_learning_rates`) stacks `params` and `opt_state` and shares `key` and `epoch`: its
    members train on the same batches.
    """

    params: Params
    """The model's parameters (a pytree)."""
    opt_state: optax.OptState
    """The optimizer's state (`tx.init(params)`)."""
    key: jax.Array
    """The run's training key (`run_keys(seed).train`)."""
    epoch: jax.Array
    """Epochs trained so far (int32 scalar): the index of the next epoch."""

    def epoch_key(self) -> jax.Array:
        """The next epoch's key: its permutation and the parent of its batches' keys."""
        return epoch_key(self.key, self.epoch)


class Batch(NamedTuple):
    """One minibatch, padded to a static size."""

    X: jax.Array
    """Inputs [B, ...]."""
    y: jax.Array
    """Targets [B] (or [B, ...])."""
    mask: jax.Array
    """[B] bool (False marks padding), or float example weights (K folds)."""
    key: jax.Array | None = None
    """The batch's model key (dropout); None: deterministic."""


def init_state(params: Params, tx: optax.GradientTransformation, key: jax.Array) -> TrainState:
    """The `TrainState` a run starts from: `params`, `tx.init(params)`, the training key and
    epoch 0.

    Args:
      params: the model's parameters (a pytree).
      tx: the optimizer (`optax.GradientTransformation`).
      key: the run's training key (`run_keys(seed).train`): epoch e shuffles with
        `epoch_key(key, e)`.

    Returns:
      `TrainState(params, opt_state, key, epoch=0)`.

    Raises:
      TypeError, ValueError: `tx` is not an optax transformation, or `key` is not one key.
    """
    checks.optimizer(tx, "tx")
    checks.key(key, "key")
    return TrainState(params, tx.init(params), key, jnp.zeros((), jnp.int32))


def _per_example(values: Any, batch_size: int, what: str) -> jax.Array:
    """Trace-time check (free at run time): one value per example, so the mask can weight
    them; a scalar would silently count the padding of the last batch."""
    if getattr(values, "shape", None) != (batch_size,):
        raise ArgumentError(
            f"{what} must return one value per example (an array of shape [{batch_size}]), "
            f"got {shape_of(values)}: drop a final mean or sum (the step averages over the mask)"
        )
    return values


def batch_sums(y_hat: jax.Array, batch: Batch, loss: Loss, metrics: Metrics | None) -> Sums:
    """Masked sums of the per-example loss and metrics, plus the example count.

    Sums (not means) so that epochs and evaluations weight every example equally;
    `summarize` divides by `count` at the end.
    """
    weights = batch.mask.astype(jnp.float32)
    B = batch.mask.shape[0]
    per_example = _per_example(loss(y_hat, batch.y), B, f"the loss {name_of(loss)!r}")
    sums = {"count": weights.sum(), "loss": (per_example * weights).sum()}
    if metrics is not None:
        named = metrics(y_hat, batch.y)
        if not isinstance(named, dict):
            said = f"metrics {name_of(metrics)!r} must return a dict of per-example values"
            raise ArgumentError(f"{said}, got {shape_of(named)}")
        for name, values in named.items():
            values = _per_example(values, B, f"the metric {name!r} of {name_of(metrics)!r}")
            sums[name] = (values.astype(jnp.float32) * weights).sum()
    return sums


def summarize(sums: dict[str, Any]) -> dict[str, Any]:
    """Means per example from an epoch's or an evaluation's sums (possibly stacked): every
    key divided by `count`, except `count` itself."""
    count = sums["count"]
    return {k: (v if k == "count" else v / count) for k, v in sums.items()}


@dataclasses.dataclass(frozen=True)
class TrainStep:
    """`step(state, batch) -> (state, sums)`: a plain, traceable function as a value that
    also says what it trains (fit checks labels against `apply`'s outputs).

    It updates `params` and `opt_state` and leaves the rest of the state as it came: an
    `Epoch` hands it the state with `key` and `epoch` set to None (the batch carries its own
    key), so `jax.vmap(step, in_axes=(0, None))` trains a stack of states on shared batches.
    Not compiled by itself: an `Epoch` scans it inside one program; to call it alone,
    `jax.jit(step, donate_argnums=0)`.
    """

    apply: Apply
    loss: Loss
    tx: optax.GradientTransformation
    metrics: Metrics | None = None
    penalty: Callable[[Params], jax.Array] | None = None

    def objective(self, params: Params, batch: Batch) -> tuple[jax.Array, Sums]:
        """The mean loss over the batch's unmasked examples plus `penalty(params)`, and the
        batch's sums (of the loss alone: the penalty is not part of the reported loss)."""
        y_hat = self.apply(params, batch.X, key=batch.key)
        sums = batch_sums(y_hat, batch, self.loss, self.metrics)
        objective = sums["loss"] / jnp.maximum(sums["count"], 1.0)
        if self.penalty is not None:
            extra = self.penalty(params)
            if jnp.shape(extra) != ():  # checked while tracing: costs nothing per step
                raise ArgumentError(
                    f"penalty must return a scalar, got shape {jnp.shape(extra)}: sum it "
                    "(e.g. 0.5 * lambd * sum of squares over the weights)"
                )
            objective = objective + extra
        return objective, sums

    def __call__(self, state: TrainState, batch: Batch) -> tuple[TrainState, Sums]:
        grads, sums = jax.grad(self.objective, has_aux=True)(state.params, batch)
        updates, opt_state = self.tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return state._replace(params=params, opt_state=opt_state), sums


def make_train_step(
    apply: Apply,
    loss: Loss,
    tx: optax.GradientTransformation,
    metrics: Metrics | None = None,
    *,
    penalty: Callable[[Params], jax.Array] | None = None,
) -> TrainStep:
    """The one training step every chapter uses (d2l 3.4's SGD step, with optax).

    Args:
      apply: the model's `apply(params, X, *, key=None)` (a key-less `apply(params, X)` too).
      loss: per-example `loss(y_hat, y) -> [B]`.
      tx: the optimizer (`optax.GradientTransformation`; `jaxd2l.sgd` is d2l's).
      metrics: per-example metrics `metrics(y_hat, y) -> {name: [B]}`, summed with the loss.
      penalty: `penalty(params) -> scalar` added to the mean loss for the gradient (not to
        the reported loss), e.g. `regularization.l2_penalty(3.0)`.

    Returns:
      `TrainStep`: `step(state, batch) -> (state, sums)`, traceable, not compiled by itself.
      The gradient is of the (weighted) mean loss over the batch's unmasked examples.

    Raises:
      TypeError: an argument that is not callable, or `tx` that is not an optax
        transformation.
    """
    checks.callable_(apply, "apply")
    checks.callable_(loss, "loss")
    checks.optimizer(tx, "tx")
    if metrics is not None:
        checks.callable_(metrics, "metrics")
    if penalty is not None:
        checks.callable_(penalty, "penalty")
    return TrainStep(takes_key(apply), loss, tx, metrics, penalty)
