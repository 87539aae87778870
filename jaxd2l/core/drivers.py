"""Two more drivers over the same step and epoch as `fit` (the scanned epoch, the default):

- `fit_whole_run`: every epoch and its evaluation compiled as one program, a `lax.scan`
  over epochs: nothing returns to the host until the end, which makes small models fast
  on accelerators, where a host round trip per epoch (or per step) dominates.
- `fit_python_loop`: a jitted step called once per batch, for teaching and debugging.

All three draw epoch e's order from `keys.epoch_key(key, e)` and cut it the same way, so
they train to the same parameters (tests/core/test_drivers.py). Neither takes callbacks
or checkpoints. `make_train` is a whole run as a pure function of a root key (purejaxrl's
shape), for `jax.jit(jax.vmap(train))` over seeds or folds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxd2l.core import checks, divergence
from jaxd2l.core.batching import epoch_indices
from jaxd2l.core.divergence import check_divergence
from jaxd2l.core.epoch import Epoch, RunEpoch, check_roll, epoch_arguments, make_gather
from jaxd2l.core.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.fit import FitResult
from jaxd2l.core.keys import batch_key, epoch_key, run_keys
from jaxd2l.core.model import Params
from jaxd2l.core.prepare import host_means, parallel_of, prepare_run
from jaxd2l.core.step import FIRST_BATCH_LOSS, Batch, TrainState, init_state


def _records(train_sums, test_sums, epochs: int, parallel) -> list[dict]:
    """One history record per epoch from sums stacked over epochs."""
    to_host = jax.device_get if parallel is None else parallel.to_host
    train_sums, test_sums = to_host((train_sums, test_sums))
    history = []
    for e in range(epochs):
        record = {"epoch": e + 1, **host_means({k: v[e] for k, v in train_sums.items()}, "train")}
        if test_sums is not None:
            record.update(host_means({k: v[e] for k, v in test_sums.items()}, "test"))
        history.append(record)
    return history


def _given(weights) -> tuple:
    """Optional weights as extra arguments (none when absent: a plain evaluation works)."""
    return () if weights is None else (weights,)


def make_whole_run(run_epoch: Epoch | RunEpoch, epochs: int, evaluate: Callable | None = None):
    """The program of `fit_whole_run`, jitted: `whole(state, X, y, key, test, weights=None,
    test_weights=None) -> (state, (train_sums, test_sums))`, sums stacked over epochs, the
    state donated. For timing or embedding a whole run in a larger program."""
    epochs = checks.epochs(epochs)
    epoch_fn = run_epoch.run if isinstance(run_epoch, Epoch) else run_epoch

    def whole(state, X, y, key, test, weights=None, test_weights=None):
        check_roll(run_epoch, X.shape[0], epochs)  # shapes are known while tracing

        def one_epoch(state, epoch):
            state, sums = epoch_fn(state, X, y, *epoch_arguments(run_epoch, key, epoch, weights))
            test_sums = None
            if evaluate is not None:
                test_sums = evaluate(state.params, *test, *_given(test_weights))
            return state, (sums, test_sums)

        return jax.lax.scan(one_epoch, state, jnp.arange(epochs))

    return jax.jit(whole, donate_argnums=0)


def make_train(
    init: Callable[[jax.Array], Params],
    tx: optax.GradientTransformation,
    run_epoch: Epoch | RunEpoch,
    epochs: int,
    evaluate: Callable | None = None,
) -> Callable:
    """A whole run as a pure function of its root key (purejaxrl's `make_train`).

    `train(key, X, y, test=None, weights=None, test_weights=None) -> (state, (train_sums,
    test_sums))`: params from `init(keys.init)`, epochs shuffled from `keys.train`
    (`run_keys(key)`), as a CLI run with that seed draws them; sums stacked over epochs
    (`summarize` turns them into means, epoch by epoch). Not jitted: `jax.jit(train)` for
    one run, `jax.jit(jax.vmap(train, in_axes=(0, None, None, None)))(keys, X, y, test)`
    for one run per key in one program, and `in_axes=(None, None, None, None, 0, 0)` with
    `kfold_weights` rows for K folds in one program. The data are arguments, never closed
    over (closed-over arrays become compile-time constants).

    Args:
      init: `init(key) -> params` (e.g. `model.init`).
      tx: the optimizer.
      run_epoch: an `Epoch` (example weights need one) or a traceable
        `run_epoch(state, X, y, key) -> (state, sums)`.
      epochs: epochs per run.
      evaluate: `evaluate(params, X, y[, weights]) -> sums`, run on `test` after each epoch.

    Returns:
      `train`, a pure function of its arguments.

    Raises:
      ValueError: (from `train`) a run that evaluates called without `test`, or a key
        that is not one key.
    """
    checks.callable_(init, "init")
    whole = make_whole_run(run_epoch, epochs, evaluate)

    def train(key, X, y, test=None, weights=None, test_weights=None):
        if evaluate is not None and test is None:
            raise ArgumentError("this run evaluates after every epoch: pass test=(X_test, y_test)")
        checks.key(key, "key")  # one key: vmap train once per axis of a grid of keys
        keys = run_keys(key)
        state = init_state(init(keys.init), tx)
        return whole(state, X, y, keys.train, test, weights, test_weights)

    return train


def fit_whole_run(
    state: TrainState,
    run_epoch: Epoch | RunEpoch,
    train: tuple[jax.Array, jax.Array],
    key: jax.Array,
    epochs: int,
    *,
    evaluate: Callable | None = None,
    test: tuple[jax.Array, jax.Array] | None = None,
    divergence_factor: float | None = divergence.FACTOR,
) -> FitResult:
    """`fit` as one compiled program: a `lax.scan` over epochs, each the scanned epoch of
    `run_epoch` then `evaluate` on `test`; nothing returns to the host until the end.

    Args:
      state: the initial `TrainState` (never donated: a copy trains).
      run_epoch: an `Epoch` or a traceable `run_epoch(state, X, y, key) -> (state, sums)`.
      train: the training pair (X, y).
      key: the run's training key; epoch e shuffles with `epoch_key(key, e)` as in `fit`.
      epochs: the number of epochs.
      evaluate: `evaluate(params, X, y) -> sums`, run on `test` after every epoch.
      test: the evaluation pair; goes with `evaluate`.
      divergence_factor: the divergence rule's factor, applied to the records afterwards;
        None turns it off.

    Returns:
      `FitResult` with `fit`'s records less the per-epoch seconds; `timing["run_s"]` is the
      whole run, `timing["compile_s"]` its compilation.

    Raises:
      DivergedError: at the first epoch that broke the rule, with the history up to there.
    """
    state, (X, y), key, epochs, test = prepare_run(
        state, run_epoch, train, key, epochs, evaluate, test
    )
    t0 = time.perf_counter()
    compiled = make_whole_run(run_epoch, epochs, evaluate).lower(state, X, y, key, test).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    state, (train_sums, test_sums) = jax.block_until_ready(compiled(state, X, y, key, test))
    run_s = time.perf_counter() - t0
    history = _records(train_sums, test_sums, epochs, parallel_of(run_epoch))
    _check_all(history, divergence_factor)
    timing = {"compile_s": compile_s, "run_s": run_s, "epoch_s_mean": run_s / epochs}
    return FitResult(state, history, timing)


def _check_all(history: list[dict], factor: float | None) -> None:
    for i in range(len(history)):
        check_divergence(history[: i + 1], factor)


def fit_python_loop(
    state: TrainState,
    run_epoch: Epoch,
    train: tuple[jax.Array, jax.Array],
    key: jax.Array,
    epochs: int,
    *,
    divergence_factor: float | None = divergence.FACTOR,
) -> FitResult:
    """`fit` with the epoch unrolled on the host, for teaching and debugging: the batch order
    from the same `epoch_indices` on the device, then a jitted step called once per batch.

    Args:
      state: the initial `TrainState` (never donated).
      run_epoch: an `Epoch` (its step, batch size and `prepare` are used; one device only).
      train: the training pair (X, y).
      key: the run's training key, as in `fit`.
      epochs: the number of epochs.
      divergence_factor: the divergence rule's factor after every epoch; None turns it off.

    Returns:
      `FitResult`: the same parameters as `fit` reaches, and its records.

    Raises:
      DivergedError: an epoch broke the divergence rule.
      TypeError: `run_epoch` is not an `Epoch` (a hand-written epoch has no step to unroll).
    """
    if not isinstance(run_epoch, Epoch):
        raise ArgumentTypeError(
            "fit_python_loop needs an Epoch from make_epoch (it calls the epoch's step once "
            f"per batch), got {type(run_epoch).__name__}"
        )
    state, (X, y), key, epochs, _ = prepare_run(state, run_epoch, train, key, epochs, None, None)
    if run_epoch.parallel is not None or run_epoch.remainder == "roll":
        raise ArgumentError(
            "fit_python_loop runs pad or drop epochs on one device: use fit for data parallel "
            "or a roll epoch"
        )
    step_fn, prepare = run_epoch.step, run_epoch.prepare or (lambda X: X)
    batch_size, drop = run_epoch.batch_size, run_epoch.drop_remainder
    order = jax.jit(lambda k: epoch_indices(k, X.shape[0], batch_size, drop))

    def raw_step(state, X, y, i, m, e_key, b):
        batch = Batch(prepare(make_gather(X)(i)), y[i], m, batch_key(e_key, b))
        return step_fn(state, batch)

    @jax.jit
    def step(state, total, X, y, i, m, e_key, b):  # the epoch's sums stay on the device
        state, sums = raw_step(state, X, y, i, m, e_key, b)
        return state, jax.tree.map(jnp.add, total, sums)

    one_batch = [jax.ShapeDtypeStruct((batch_size,), t) for t in (jnp.int32, jnp.bool_)]
    one_batch += [key, jax.ShapeDtypeStruct((), jnp.int32)]
    sums_shape = jax.eval_shape(raw_step, state, X, y, *one_batch)[1]
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), sums_shape)
    t0 = time.perf_counter()  # compile ahead, so the first epoch times training only
    order = order.lower(key).compile()
    step = step.lower(state, zeros, X, y, *one_batch).compile()
    compile_s = time.perf_counter() - t0
    history, epoch_s = [], []
    t_start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        e_key = epoch_key(key, epoch)
        idx, mask = order(e_key)
        total = zeros
        for b in range(idx.shape[0]):
            state, total = step(state, total, X, y, idx[b], mask[b], e_key, jnp.int32(b))
            if epoch == 0 and b == 0:  # the untrained model's loss: the rule's yardstick
                first = float(total["loss"] / jnp.maximum(total["count"], 1.0))
        jax.block_until_ready((state, total))
        epoch_s.append(time.perf_counter() - t0)
        history.append({"epoch": epoch + 1, **host_means(total, "train"), "seconds": epoch_s[-1]})
        history[-1][f"train_{FIRST_BATCH_LOSS}"] = first
        check_divergence(history, divergence_factor)
    timing = {"compile_s": compile_s, "epoch_s": epoch_s, "total_s": time.perf_counter() - t_start}
    return FitResult(state, history, timing)
