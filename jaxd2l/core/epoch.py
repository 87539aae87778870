"""An epoch as a value (`Epoch`), and the exact evaluation of a whole split.

An epoch is one shuffled pass as one `lax.scan` over batches already on the device
(d2l 3.2-3.7's inner loop, compiled once). `Epoch` holds what the drivers need to know
(the step, batch size, `prepare`, placement) as fields, not attributes hung on a function;
anything of the signature `run_epoch(state, X, y, key) -> (state, sums)` trains through
`loop.fit` too.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax

from jaxd2l.core import checks
from jaxd2l.core.batching import epoch_indices, rolled_indices
from jaxd2l.core.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.keys import batch_key, epoch_key
from jaxd2l.core.model import Apply, takes_key
from jaxd2l.core.parallel import DataParallel
from jaxd2l.core.step import FIRST_BATCH_LOSS, Batch, Loss, Metrics, Sums, TrainState, batch_sums

Prepare = Callable[[jax.Array], jax.Array]
RunEpoch = Callable[[TrainState, jax.Array, jax.Array, jax.Array], tuple[TrainState, Sums]]
REMAINDERS = ("pad", "drop", "roll")
"""The three ways to treat the last partial batch (see `make_epoch`)."""


def _identity(X):
    return X


def make_gather(X: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """`gather(i) -> X[i]` for index batches i, through X viewed as [N, features]: gathering
    whole rows is several times faster on CPU than gathering [28, 28, 1] slices, and the
    reshapes are free."""
    rows = X.reshape(X.shape[0], -1) if X.ndim > 2 else X
    return lambda i: rows[i].reshape(i.shape + X.shape[1:])


@dataclasses.dataclass(frozen=True)
class Epoch:
    """One shuffled pass of `step` over (X, y) in batches of `batch_size`; calling it runs
    the compiled epoch: `epoch(state, X, y, key) -> (state, sums)`, the state donated.

    Epoch e's key (`keys.epoch_key`) draws the permutation; batch b gets
    `keys.batch_key(key, b)` as its model key, so dropout masks are a function of (key,
    epoch, batch) on any number of devices. `prepare` maps a gathered raw batch (uint8
    images) to model input. The last partial batch is padded and masked so every example
    counts once (`remainder="pad"`); `"drop"` drops it; `"roll"` fills it from the next pass
    (`batching.rolled_indices`): then the drivers call the epoch with the run's training key
    and the epoch's index, `epoch(state, X, y, train_key, weights, epoch=e)`, as
    `epoch_arguments` builds them. `sums` are totals over the epoch, or per batch
    stacked on axis 0 with `per_batch`; a vmapped step (trials) adds its axis after that.
    `parallel` shards each global batch over its devices (`loop.fit` places the data).
    """

    step: Callable
    batch_size: int
    prepare: Prepare | None = None
    remainder: str = "pad"
    per_batch: bool = False
    parallel: DataParallel | None = None

    @property
    def drop_remainder(self) -> bool:
        """True when the last partial batch is dropped."""
        return self.remainder == "drop"

    def run(
        self, state: Any, X: jax.Array, y: jax.Array, key: jax.Array, weights=None, epoch=None
    ) -> tuple[Any, Sums]:
        """The epoch as a plain traceable function (for a larger program, e.g. a whole run).

        `weights` [N] (optional) weight each example in the loss, its gradient and the sums:
        K folds are K weight vectors over the same arrays (0 on the held-out fold). In roll
        mode `key` is the run's training key and `epoch` the epoch's index (may be traced)."""
        if self.remainder == "roll":
            if epoch is None:
                raise ArgumentError(
                    "a roll epoch needs its index: call it with the run's training key and "
                    "epoch=e (epoch_arguments(epoch, train_key, e) builds the arguments)"
                )
            idx, mask = rolled_indices(key, epoch, X.shape[0], self.batch_size)
            key = epoch_key(key, epoch)  # the batches' dropout keys, as in pad mode
        else:
            idx, mask = epoch_indices(key, X.shape[0], self.batch_size, self.drop_remainder)
        constrain = self.parallel.constrain_batches if self.parallel is not None else _identity
        idx, mask = constrain(idx), constrain(mask)
        gather, prepare = make_gather(X), self.prepare or _identity

        def body(state, batch):
            b, i, m = batch
            if weights is not None:
                m = m * weights[i]
            return self.step(state, Batch(prepare(gather(i)), y[i], m, batch_key(key, b)))

        batches = jax.numpy.arange(idx.shape[0])
        state, sums = jax.lax.scan(body, state, (batches, idx, mask))
        if not self.per_batch:
            # the first batch's mean loss, before any update: the divergence rule's yardstick
            first = sums["loss"][0] / jax.numpy.maximum(sums["count"][0], 1.0)
            sums = jax.tree.map(lambda s: s.sum(axis=0), sums)
            sums[FIRST_BATCH_LOSS] = first
        return state, sums

    @functools.cached_property
    def compiled(self) -> Any:
        """The jitted epoch (state donated); `.lower(...)` compiles it ahead of time."""
        return jax.jit(self.run, donate_argnums=0)

    def __call__(self, state: Any, X: Any, y: Any, key: Any, weights=None, epoch=None):
        return self.compiled(state, X, y, key, weights, epoch)

    def lower(self, state: Any, X: Any, y: Any, key: Any, weights: Any = None, epoch=None):
        """Ahead-of-time: `epoch.lower(state, X, y, key).compile()`, as for a jitted function;
        the compiled epoch takes `weights` (and a roll epoch's `epoch`) positionally, only
        when lowered with them."""
        if epoch is not None:
            return self.compiled.lower(state, X, y, key, weights, epoch)
        return self.compiled.lower(state, X, y, key, *(() if weights is None else (weights,)))


def check_roll(run_epoch: Any, num_examples: int, epochs: int) -> None:
    """A roll epoch counts stream positions in int32: epochs x examples must stay below 2^31."""
    if getattr(run_epoch, "remainder", "pad") == "roll" and epochs * num_examples >= 2**31:
        raise ArgumentError(
            f"a roll epoch over {num_examples} examples counts positions in int32: at most "
            f"{(2**31 - 1) // num_examples} epochs, got {epochs}; use fewer or remainder='pad'"
        )


def epoch_arguments(run_epoch: Any, train_key: jax.Array, epoch, weights=None) -> tuple:
    """The key-and-after arguments of epoch `epoch` for any epoch function: `(epoch_key,
    [weights])`, or `(train_key, weights, epoch)` for a roll `Epoch`."""
    if getattr(run_epoch, "remainder", "pad") == "roll":
        return (train_key, weights, epoch)
    key = epoch_key(train_key, epoch)
    return (key,) if weights is None else (key, weights)


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

    Args:
      train_step: a `TrainStep`, `jax.vmap` of one, or any `(state, batch) -> (state, sums)`.
      batch_size: examples per batch; the last partial batch is padded and masked (every
        example counted once) unless `drop_remainder`.
      prepare: maps a gathered raw batch to model input (e.g. `fashion_mnist.scale_images`).
      drop_remainder: drop the last partial batch instead (`remainder="drop"`).
      remainder: the last partial batch, one of `REMAINDERS`: "pad" (padded and masked,
        every example once per epoch), "drop", or "roll" (filled from the next pass: every
        batch full, every example once per pass, an epoch is n // batch_size batches).
      per_batch: return the sums of every batch stacked on axis 0 instead of their totals.
      parallel: a `DataParallel`; its device count must divide `batch_size`.

    Returns:
      `Epoch`: `epoch(state, X, y, key, weights=None) -> (state, sums)`, compiled, the state
      donated; `epoch.run` is the traceable function.

    Raises:
      ValueError, TypeError: a bad argument, named.
    """
    checks.callable_(train_step, "train_step")
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    if prepare is not None:
        checks.callable_(prepare, "prepare")
    if parallel is not None:
        if not isinstance(parallel, DataParallel):
            raise ArgumentTypeError(
                "parallel must be a jaxd2l.core.parallel.DataParallel (data_parallel(n)) or None, "
                f"got {type(parallel).__name__}"
            )
        parallel.check_batch_size(batch_size)
    if remainder is None:
        remainder = "drop" if drop_remainder else "pad"
    elif drop_remainder and remainder != "drop":
        raise ArgumentError(f"drop_remainder=True contradicts remainder={remainder!r}: pass one")
    checks.choice(remainder, REMAINDERS, "remainder")
    return Epoch(train_step, batch_size, prepare, remainder, bool(per_batch), parallel)


def make_evaluate(
    apply: Apply,
    loss: Loss,
    metrics: Metrics | None = None,
    *,
    batch_size: int = 1024,
    prepare: Prepare | None = None,
    parallel: DataParallel | None = None,
) -> Callable:
    """An exact evaluation over a whole split on the device (jitted).

    Every example counts once (the last batch is masked, not dropped), so accuracy is weighted
    by example count, never a mean of batch means; the model runs with `key=None` (no dropout).

    Args:
      apply: the model's `apply(params, X, *, key=None)`.
      loss: per-example `loss(y_hat, y) -> [B]`.
      metrics: per-example metrics `metrics(y_hat, y) -> {name: [B]}` (e.g. accuracy).
      batch_size: examples per evaluation batch (memory, not results).
      prepare: maps raw inputs to model input (e.g. `fashion_mnist.scale_images`).
      parallel: a `DataParallel`: batches sharded over its devices.

    Returns:
      `evaluate(params, X, y, weights=None) -> sums`; `summarize` turns them into means.
      `weights` [N] weight the examples (a fold's validation examples).
    """
    checks.callable_(apply, "apply")
    checks.callable_(loss, "loss")
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    apply = takes_key(apply)
    devices = parallel.num_devices if parallel is not None else 1
    constrain = parallel.constrain_batches if parallel is not None else _identity
    prepare = prepare or _identity

    def evaluate(params, X, y, weights=None):
        size = min(batch_size, X.shape[0])
        size = -(-size // devices) * devices
        idx, mask = epoch_indices(None, X.shape[0], size)
        idx, mask = constrain(idx), constrain(mask)
        gather = make_gather(X)

        def body(carry, batch_idx):
            i, m = batch_idx
            if weights is not None:
                m = m * weights[i]
            batch = Batch(prepare(gather(i)), y[i], m)
            return carry, batch_sums(apply(params, batch.X, key=None), batch, loss, metrics)

        _, sums = jax.lax.scan(body, None, (idx, mask))
        return jax.tree.map(lambda s: s.sum(axis=0), sums)

    return jax.jit(evaluate)
