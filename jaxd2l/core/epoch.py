"""An epoch as a value (`Epoch`): one shuffled pass of a step, or a caller's own epoch.

An epoch is one shuffled pass as one `lax.scan` over batches already on the device
(d2l 3.2-3.7's inner loop, compiled once). Every epoch has one call,
`epoch(state, X, y, weights=None) -> (state, sums)`: what it draws comes from the state's
key and epoch counter, in every remainder mode, so no caller needs to know how the epoch
was built. `Epoch` is the one type the drivers take (as every optimizer is an optax
`GradientTransformation`): `make_epoch` builds one from a step, `epoch_function` wraps a
research caller's own epoch function into one, with the same checks.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.batching import batch_plan, check_plan
from jaxd2l.core.keys import batch_key
from jaxd2l.core.parallel import DataParallel
from jaxd2l.core.step import FIRST_BATCH_LOSS, Batch, Sums, TrainState

Prepare = Callable[[jax.Array], jax.Array]
REMAINDERS = ("pad", "drop", "roll")
"""The three ways to treat the last partial batch (see `make_epoch`)."""


def identity(X):
    return X


def make_gather(X: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """`gather(i) -> X[i]` for index batches i, through X viewed as [N, features]: gathering
    whole rows is several times faster on CPU than gathering [28, 28, 1] slices, and the
    reshapes are free."""
    rows = X.reshape(X.shape[0], -1) if X.ndim > 2 else X
    return lambda i: rows[i].reshape(i.shape + X.shape[1:])


def _advance(before: TrainState, after: TrainState) -> TrainState:
    """The state after an epoch: what the epoch trained, the run's key, the next epoch."""
    return TrainState(after.params, after.opt_state, before.key, before.epoch + 1)


def _check_sums(sums: Any) -> Sums:
    """Trace-time: an epoch's sums are a dict holding at least `count` and `loss`."""
    if not isinstance(sums, dict) or not {"count", "loss"} <= set(sums):
        raise ArgumentError(
            "an epoch must return (state, sums) with sums a dict holding at least 'count' and "
            f"'loss' (totals over the epoch), got {type(sums).__name__}"
            + (f" with keys {sorted(sums)}" if isinstance(sums, dict) else "")
        )
    return sums


@dataclasses.dataclass(frozen=True)
class Epoch:
    """One epoch as a value; calling it runs the compiled epoch,
    `epoch(state, X, y, weights=None) -> (state, sums)`, the state donated and returned with
    `epoch` advanced by one.

    Made by `make_epoch` (a step scanned over shuffled batches) or `epoch_function` (a
    caller's own function). The fields say what the drivers need to know: the step it scans
    (None for a caller's function), `batch_size`, `prepare` (maps a gathered raw batch, e.g.
    uint8 images, to model input), `remainder` (the last partial batch: "pad", "drop" or
    "roll"), `per_batch` (sums per batch instead of totals), `parallel` (a `DataParallel`
    that shards each global batch over its devices), `raw_inputs` (the function scales raw
    uint8 inputs itself) and `takes_weights`.

    `weights` [N] (optional) weight each example in the loss, its gradient and the sums:
    K folds are K weight vectors over the same arrays (0 on the held-out fold).
    """

    body: Callable
    """The traceable epoch, `body(epoch, state, X, y, weights) -> (state, sums)`: `scan_step`
    for a step, a `CallerEpoch` for a caller's function."""
    step: Callable | None = None
    batch_size: int | None = None
    prepare: Prepare | None = None
    remainder: str = "pad"
    per_batch: bool = False
    parallel: DataParallel | None = None
    raw_inputs: bool = False
    takes_weights: bool = True

    def plan(self, state: TrainState, num_examples: int) -> tuple[jax.Array, jax.Array]:
        """The next epoch's index batches [nb, B] and mask [nb, B], drawn from the state's
        key and epoch in this epoch's remainder mode (traceable)."""
        return batch_plan(state.key, state.epoch, num_examples, self.batch_size, self.remainder)

    def run(self, state: TrainState, X: jax.Array, y: jax.Array, weights=None):
        """The epoch as a plain traceable function (for a larger program, e.g. a whole run):
        `(state, X, y, weights=None) -> (state, sums)`, the state's epoch advanced."""
        if weights is not None and not self.takes_weights:
            raise ArgumentError(
                "this epoch function takes no example weights: accept a fourth argument "
                "`weights` (and wrap it with epoch_function(fn, takes_weights=True)), or "
                "pass none"
            )
        if weights is not None:
            checks.weights_shape(weights, X.shape[0], "weights")
        state_after, sums = self.body(self, state, X, y, weights)
        return _advance(state, state_after), _check_sums(sums)

    @functools.cached_property
    def compiled(self) -> Any:
        """The jitted epoch (state donated); `.lower(...)` compiles it ahead of time."""
        return jax.jit(self.run, donate_argnums=0)

    def __call__(self, state: TrainState, X: Any, y: Any, weights: Any = None):
        return self.compiled(state, X, y, weights)

    def lower(self, state: TrainState, X: Any, y: Any, weights: Any = None):
        """Ahead-of-time: `epoch.lower(state, X, y[, weights]).compile()`, as for a jitted
        function; the compiled epoch is called with the same arguments."""
        return self.compiled.lower(state, X, y, weights)

    def check(self, num_examples: int, epochs: int) -> None:
        """Before a run: the batch size fits the data, and a roll epoch's stream of
        positions fits in int32 for `epochs` epochs."""
        if self.batch_size is not None:
            check_plan(num_examples, self.batch_size, self.remainder, epochs)


def scan_step(epoch: Epoch, state: TrainState, X, y, weights):
    """The body of a step epoch: the batch plan of the state, then `lax.scan` of the step
    over it, the step seeing the state without its key and epoch (they stay the run's)."""
    idx, mask = epoch.plan(state, X.shape[0])
    constrain = epoch.parallel.constrain_batches if epoch.parallel is not None else identity
    idx, mask = constrain(idx), constrain(mask)
    gather, prepare = make_gather(X), epoch.prepare or identity
    e_key = state.epoch_key()

    def body(inner, batch):
        b, i, m = batch
        if weights is not None:
            m = m * weights[i]
        return epoch.step(inner, Batch(prepare(gather(i)), y[i], m, batch_key(e_key, b)))

    inner = state._replace(key=None, epoch=None)
    batches = jnp.arange(idx.shape[0])
    inner, sums = jax.lax.scan(body, inner, (batches, idx, mask))
    if not epoch.per_batch:
        # the first batch's mean loss, before any update: the divergence rule's yardstick
        first = sums["loss"][0] / jnp.maximum(sums["count"][0], 1.0)
        sums = jax.tree.map(lambda s: s.sum(axis=0), sums)
        sums[FIRST_BATCH_LOSS] = first
    return inner, sums


def make_epoch(
    train_step: Callable,
    batch_size: int,
    *,
    prepare: Prepare | None = None,
    drop_remainder: bool = False,
    per_batch: bool = False,
    parallel: DataParallel | None = None,
    remainder: str | None = None,
) -> Epoch:
    """The `Epoch` of a training step: one shuffled pass over (X, y) in batches, scanned.

    Epoch e (the state's `epoch`) draws its permutation from `keys.epoch_key(state.key, e)`
    and batch b gets `keys.batch_key(that, b)` as its model key, so dropout masks are a
    function of (key, epoch, batch) on any number of devices.

    Args:
      train_step: a `TrainStep`, `jax.vmap` of one, or any `(state, batch) -> (state, sums)`.
      batch_size: examples per batch.
      prepare: maps a gathered raw batch to model input (e.g. `fashion_mnist.scale_images`).
      drop_remainder: drop the last partial batch instead (`remainder="drop"`).
      remainder: the last partial batch, one of `REMAINDERS`: "pad" (padded and masked,
        every example once per epoch), "drop", or "roll" (filled from the next pass: every
        batch full, every example once per pass, an epoch is n // batch_size batches).
      per_batch: return the sums of every batch stacked on axis 0 instead of their totals.
      parallel: a `DataParallel`; its device count must divide `batch_size`.

    Returns:
      `Epoch`: `epoch(state, X, y, weights=None) -> (state, sums)`, compiled, the state
      donated; `epoch.run` is the traceable function.

    Raises:
      ValueError, TypeError: a bad argument, named.
    """
    checks.callable_(train_step, "train_step")
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    if prepare is not None:
        checks.callable_(prepare, "prepare")
    _check_parallel(parallel, batch_size)
    if remainder is None:
        remainder = "drop" if drop_remainder else "pad"
    elif drop_remainder and remainder != "drop":
        raise ArgumentError(f"drop_remainder=True contradicts remainder={remainder!r}: pass one")
    checks.choice(remainder, REMAINDERS, "remainder")

    return Epoch(scan_step, train_step, batch_size, prepare, remainder, bool(per_batch), parallel)


def epoch_function(
    fn: Callable,
    *,
    takes_weights: bool | None = None,
    raw_inputs: bool = False,
    parallel: DataParallel | None = None,
) -> Epoch:
    """A research caller's own epoch as an `Epoch`, so every driver takes it with the same
    checks: `fn(state, X, y[, weights]) -> (state, sums)`, traceable.

    `fn` trains `state.params` and `state.opt_state` for one epoch; what it draws comes from
    `state.epoch_key()` (or `batching.batch_plan(state.key, state.epoch, ...)`), so every
    driver and a resumed run draw the same numbers. The wrapper advances `state.epoch` and
    keeps `state.key`; `sums` must hold `count` and `loss` (totals over the epoch).

    Args:
      fn: the epoch function.
      takes_weights: whether `fn` takes example weights as a fourth argument (default: read
        from its signature); an epoch without them refuses weights by name.
      raw_inputs: `fn` scales raw uint8 inputs itself (else uint8 inputs are refused, as for
        an `Epoch` without `prepare`).
      parallel: a `DataParallel` whose placement the drivers use for the state and data.

    Returns:
      `Epoch`.
    """
    if isinstance(fn, Epoch):
        raise ArgumentTypeError("fn is already an Epoch: pass it to the drivers as it is")
    checks.callable_(fn, "fn")
    _check_parallel(parallel, None)
    if takes_weights is None:
        takes_weights = _positional_count(fn) >= 4
    return Epoch(
        CallerEpoch(fn, bool(takes_weights)),
        parallel=parallel,
        raw_inputs=bool(raw_inputs),
        takes_weights=bool(takes_weights),
    )


@dataclasses.dataclass(frozen=True)
class CallerEpoch:
    """A caller's epoch function as an `Epoch`'s body (equal when the function is)."""

    fn: Callable
    takes_weights: bool

    def __call__(self, epoch: Epoch, state: TrainState, X, y, weights):
        if self.takes_weights:
            return self.fn(state, X, y, weights)
        return self.fn(state, X, y)  # weights were refused by Epoch.run


def _positional_count(fn: Callable) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 4
    return sum(p.kind in kinds for p in parameters)


def _check_parallel(parallel: Any, batch_size: int | None) -> None:
    if parallel is None:
        return
    if not isinstance(parallel, DataParallel):
        raise ArgumentTypeError(
            "parallel must be a jaxd2l.core.parallel.DataParallel (data_parallel(n)) or None, "
            f"got {type(parallel).__name__}"
        )
    if batch_size is not None:
        parallel.check_batch_size(batch_size)


def as_epoch(value: Any, name: str = "epoch") -> Epoch:
    """The drivers' check: an `Epoch`, or a clear error naming the two ways to make one."""
    if isinstance(value, Epoch):
        return value
    raise ArgumentTypeError(
        f"{name} must be an Epoch: make_epoch(step, batch_size, ...) for a training step, or "
        f"epoch_function(fn) for your own epoch function, got {type(value).__name__}"
    )


def uint8_unscaled(epoch: Epoch, X: Any) -> bool:
    """True when uint8 inputs would reach the model unscaled."""
    return epoch.prepare is None and not epoch.raw_inputs and X.dtype == np.uint8
