"""The exact evaluation of a whole split on the device (d2l 3.6's evaluate_accuracy, exact):
every example counts once, weighted by example count, never a mean of batch means."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax

from jaxd2l import checks
from jaxd2l.checks.arrays import array, check_arrays
from jaxd2l.core.batching import epoch_indices
from jaxd2l.core.epoch import Prepare, make_gather
from jaxd2l.core.parallel import DataParallel
from jaxd2l.core.step import Apply, Batch, Loss, Metrics, batch_sums, takes_key

EVALUATED = {"X": array(), "y": array(rows_of="X")}  # examples and one target each


def make_evaluate(
    apply: Apply,
    loss: Loss,
    metrics: Metrics | None = None,
    *,
    batch_size: int = 1024,
    prepare: Prepare | None = None,
    parallel: DataParallel | None = None,
) -> Callable:
    """An exact evaluation over a whole split on the device (d2l 3.6's evaluate_accuracy,
    exact): every example counts once (the last batch is masked, not dropped), so accuracy
    is weighted by example count, never a mean of batch means; the model runs with
    `key=None` (no dropout).

    Args:
      apply: the model's `apply(params, X, *, key=None)`.
      loss: per-example `loss(y_hat, y) -> [B]`.
      metrics: per-example metrics `metrics(y_hat, y) -> {name: [B]}` (e.g. accuracy).
      batch_size: examples per evaluation batch (memory, not results).
      prepare: maps raw inputs to model input (e.g. `fashion_mnist.scale_images`).
      parallel: a `DataParallel`: batches sharded over its devices.

    Returns:
      `evaluate(params, X, y, weights=None) -> sums`, jitted; `summarize` turns them into
      means. `weights` [N] weight the examples (a fold's validation examples).
    """
    checks.callable_(apply, "apply")
    checks.callable_(loss, "loss")
    batch_size = checks.integer(batch_size, "batch_size", minimum=1)
    apply = takes_key(apply)
    devices = parallel.num_devices if parallel is not None else 1
    constrain = parallel.constrain_batches if parallel is not None else (lambda a: a)

    def evaluate(params, X, y, weights=None):
        size = -(-min(batch_size, X.shape[0]) // devices) * devices
        idx, mask = epoch_indices(None, X.shape[0], size)
        idx, mask = constrain(idx), constrain(mask)
        gather = make_gather(X)

        def body(carry, batch_idx):
            i, m = batch_idx
            if weights is not None:
                m = m * weights[i]
            x = gather(i) if prepare is None else prepare(gather(i))
            batch = Batch(x, y[i], m)
            return carry, batch_sums(apply(params, batch.X, key=None), batch, loss, metrics)

        _, sums = jax.lax.scan(body, None, (idx, mask))
        return jax.tree.map(lambda s: s.sum(axis=0), sums)

    compiled = jax.jit(evaluate)

    def checked(params, X, y, weights=None):
        check_arrays({"X": X, "y": y}, EVALUATED)
        if weights is not None:  # one per example, >= 0, finite, not all zero
            weights = checks.example_weights(weights, X.shape[0], "weights")
        if not any(isinstance(a, jax.core.Tracer) for a in (X, y)):
            checks.targets_fit_model(apply, params, X, y, prepare, "evaluate")
        return compiled(params, X, y, weights)

    return functools.wraps(evaluate)(checked)
