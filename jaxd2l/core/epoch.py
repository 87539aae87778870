"""An epoch as a value (`Epoch`): one `lax.scan` over batches already on the device (d2l
3.2-3.7's inner loop, compiled once). It is what it computes, `(state, X, y, weights) ->
(state, sums)`, plus what a driver needs (`parallel`, `check`, `unrolled`); what it draws
comes from the state's key and epoch counter, so no driver reads how it was built.
`make_epoch` builds one from a step, `epoch_function` wraps a caller's own function.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.batching import batch_plan, check_plan
from jaxd2l.core.keys import batch_key
from jaxd2l.core.parallel import DataParallel
from jaxd2l.core.step import (
    Batch,
    TrainState,
    TrainStep,
)

Prepare = Callable[[jax.Array], jax.Array]
REMAINDERS = ("pad", "drop", "roll")
"""The three ways to treat the last partial batch (see `make_epoch`)."""


def make_gather(X: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """`gather(i) -> X[i]` for index batches i, through X viewed as [N, features]: gathering
    whole rows is several times faster on CPU than gathering [28, 28, 1] slices, and the
    reshapes are free."""
    rows = X.reshape(X.shape[0], -1) if X.ndim > 2 else X
    return lambda i: rows[i].reshape(i.shape + X.shape[1:])


class Unrolled(NamedTuple):
    """An epoch of `make_epoch` as its parts, for the host loop (`fit_python_loop`)."""

    plan: Callable
    """`plan(state, num_examples) -> (idx, mask)`, each [batches, B]: the epoch's batches."""
    step: Callable
    """`step(state, X, y, weights, i, m, b) -> (state, sums)`: batch b (indices i, mask m)
    of the state's epoch trained; the state's key and epoch stay as they were."""


@dataclasses.dataclass(frozen=True)
class Epoch:
    """One epoch; calling it runs the compiled epoch, `epoch(state, X, y, weights=None) ->
    (state, sums)`, the state donated and its `epoch` advanced. `weights` [N] weight each
    example in the loss, its gradient and the sums (K folds: K weight vectors)."""

    fn: Callable
    """`fn(state, X, y, weights) -> (state, sums, untrained)`, traceable: `untrained` is
    the mean loss of the epoch's first batch before its update, the divergence rule's
    yardstick (None when the epoch measures none)."""
    parallel: DataParallel | None = None
    """A `DataParallel` whose placement the drivers use for the state and data, or None."""
    check: Callable = lambda state, X, y, name, epochs=None: None
    """`check(state, X, y, name, epochs=None)`: its maker's checks of a split before a run
    (the batch plan for `epochs`, unscaled uint8, labels the model cannot take)."""
    unrolled: Unrolled | None = None
    """The host loop's parts, or None (a caller's epoch function)."""

    def measure(self, state: TrainState, X, y, weights=None):
        """The drivers' epoch, traceable: `(state, sums, untrained)`, the epoch advanced."""
        if weights is not None:
            checks.weights_shape(weights, X.shape[0], "weights")
        after, sums, untrained = self.fn(state, X, y, weights)
        if not isinstance(sums, dict) or not {"count", "loss"} <= set(sums):
            raise ArgumentError(
                "an epoch must return (state, sums) with sums a dict holding at least 'count' "
                f"and 'loss' (totals over the epoch), got {type(sums).__name__}"
                + (f" with keys {sorted(sums)}" if isinstance(sums, dict) else "")
            )
        advanced = TrainState(after.params, after.opt_state, state.key, state.epoch + 1)
        return advanced, sums, untrained

    def run(self, state: TrainState, X, y, weights=None):
        """The epoch, traceable (for a larger program): `(state, sums)`, the epoch advanced."""
        state, sums, _ = self.measure(state, X, y, weights)
        return state, sums

    @functools.cached_property
    def compiled(self) -> Any:
        """The jitted epoch (state donated); `.lower(...)` compiles it ahead of time."""
        return jax.jit(self.run, donate_argnums=0)

    @functools.cached_property
    def program(self) -> Any:
        """The drivers' jitted epoch, `measure` with the state donated."""
        return jax.jit(self.measure, donate_argnums=0)

    def __call__(self, state: TrainState, X: Any, y: Any, weights: Any = None):
        return self.compiled(state, X, y, weights)

    def lower(self, state: TrainState, X: Any, y: Any, weights: Any = None):
        """Ahead-of-time: `epoch.lower(state, X, y[, weights]).compile()`, as for a jitted
        function; the compiled epoch is called with the same arguments."""
        return self.compiled.lower(state, X, y, weights)


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
    function of (key, epoch, batch) on any number of devices. The step sees the state
    without its key and epoch (they stay the run's), so `jax.vmap(step, in_axes=(0, None))`
    trains a stack of states on shared batches.

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
    check_parallel(parallel, batch_size)
    if remainder is None:
        remainder = "drop" if drop_remainder else "pad"
    elif drop_remainder and remainder != "drop":
        raise ArgumentError(f"drop_remainder=True contradicts remainder={remainder!r}: pass one")
    checks.choice(remainder, REMAINDERS, "remainder")
    constrain = parallel.constrain_batches if parallel is not None else (lambda a: a)
    # a TrainStep's model has its labels checked (a vmapped step over stacked states has not)
    apply = train_step.apply if isinstance(train_step, TrainStep) else None

    def plan(state, num_examples):
        return batch_plan(state.key, state.epoch, num_examples, batch_size, remainder)

    def one(inner, gather, y, weights, i, m, key):
        if weights is not None:
            m = m * weights[i]
        x = gather(i) if prepare is None else prepare(gather(i))
        return train_step(inner, Batch(x, y[i], m, key))

    def step(state, X, y, weights, i, m, b):
        inner = state._replace(key=None, epoch=None)
        inner, sums = one(inner, make_gather(X), y, weights, i, m, batch_key(state.epoch_key(), b))
        return state._replace(params=inner.params, opt_state=inner.opt_state), sums

    def fn(state, X, y, weights):
        idx, mask = plan(state, X.shape[0])
        idx, mask = constrain(idx), constrain(mask)
        gather, e_key = make_gather(X), state.epoch_key()

        def body(inner, batch):
            b, i, m = batch
            return one(inner, gather, y, weights, i, m, batch_key(e_key, b))

        inner = state._replace(key=None, epoch=None)
        inner, sums = jax.lax.scan(body, inner, (jnp.arange(idx.shape[0]), idx, mask))
        untrained = sums["loss"][0] / jnp.maximum(sums["count"][0], 1.0)
        if not per_batch:
            sums = jax.tree.map(lambda s: s.sum(axis=0), sums)
        return inner, sums, untrained

    def check(state, X, y, name, epochs=None):
        if epochs is not None:
            check_plan(int(X.shape[0]), batch_size, remainder, epochs)
        check_scaled(X, prepare is not None, name)
        if apply is not None and not isinstance(y, jax.core.Tracer):
            checks.targets_fit_model(apply, state.params, X, y, prepare, name)

    return Epoch(fn, parallel, check, Unrolled(plan, step))


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
    keeps `state.key`; `sums` must hold `count` and `loss` (totals over the epoch). It
    measures no untrained loss: the divergence rule keeps its non-finite half.

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
    check_parallel(parallel, None)
    takes = _positional_count(fn) >= 4 if takes_weights is None else bool(takes_weights)

    def call(state, X, y, weights):
        if weights is not None and not takes:
            raise ArgumentError(
                "this epoch function takes no example weights: accept a fourth argument "
                "`weights` (and wrap it with epoch_function(fn, takes_weights=True)), or "
                "pass none"
            )
        out = fn(state, X, y, weights) if takes else fn(state, X, y)
        if not isinstance(out, tuple) or len(out) != 2:
            raise ArgumentError(
                f"the epoch function {getattr(fn, '__qualname__', fn)!r} must return "
                f"(state, sums), got {type(out).__name__}"
            )
        return out[0], out[1], None

    def check(state, X, y, name, epochs=None):
        check_scaled(X, bool(raw_inputs), name)

    return Epoch(call, parallel, check)


def _positional_count(fn: Callable) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 4
    return sum(p.kind in kinds for p in parameters)


def check_parallel(parallel: Any, batch_size: int | None) -> None:
    if parallel is None:
        return
    if not isinstance(parallel, DataParallel):
        raise ArgumentTypeError(
            "parallel must be a jaxd2l.core.parallel.DataParallel (data_parallel(n)) or None, "
            f"got {type(parallel).__name__}"
        )
    if batch_size is not None:
        parallel.check_batch_size(batch_size, "batch_size")


def check_scaled(X: Any, scaled: bool, name: str) -> None:
    """uint8 pixels must not reach a model unscaled."""
    if not scaled and np.dtype(X.dtype) == np.uint8:
        raise ArgumentError(
            f"{name}: X holds uint8 pixels but nothing scales them: pass "
            "prepare=fashion_mnist.scale_images to make_epoch / make_evaluate"
        )


def as_epoch(value: Any, name: str = "epoch") -> Epoch:
    """The drivers' check: an `Epoch`, or a clear error naming the two ways to make one."""
    if isinstance(value, Epoch):
        return value
    raise ArgumentTypeError(
        f"{name} must be an Epoch: make_epoch(step, batch_size, ...) for a training step, or "
        f"epoch_function(fn) for your own epoch function, got {type(value).__name__}"
    )
