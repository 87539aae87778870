"""The whole run as one program, and the drivers beside `fit` over the same epoch:

- `make_train`: a whole run as a pure function of a root key (purejaxrl's shape): a
  `lax.scan` over epochs whose `observe(params, *observed)` results are stacked (test sums,
  a polynomial's weights, fold predictions), for `jax.jit(jax.vmap(train))` over seeds,
  folds or settings; every chapter's whole run is this one scan;
- `fit_whole_run`: that scan compiled and run from a state, as `fit` is, its records and
  the divergence rule afterwards: nothing returns to the host until the end, which makes
  small models fast on accelerators;
- `fit_python_loop`: a jitted step called once per batch, for teaching and debugging.

Every driver draws epoch e's batches from the state's key and e (`Epoch.plan`), so all of
them train to the same parameters in every remainder mode (tests/core/test_drivers.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxd2l import checks
from jaxd2l.checks.arrays import array, check_arrays
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.checks.signatures import named
from jaxd2l.core import divergence
from jaxd2l.core.arguments import check_run, host_means
from jaxd2l.core.divergence import check_divergence
from jaxd2l.core.epoch import Epoch, as_epoch, make_gather
from jaxd2l.core.fit import IN_A_WHOLE_RUN, FitResult
from jaxd2l.core.keys import batch_key, run_keys
from jaxd2l.core.model import Params
from jaxd2l.core.step import FIRST_BATCH_LOSS, Batch, TrainState, check_tx, init_state


def scan_epochs(epoch: Epoch, epochs: int, observe: Callable | None = None) -> Callable:
    """`whole(state, X, y, weights, *observed) -> (state, (train_sums, observations))`:
    `epochs` epochs as one `lax.scan`, `observe(params, *observed)` after each, both
    stacked over epochs (observations None without `observe`). Traceable, not jitted."""

    def whole(state, X, y, weights, *observed):
        def one(state, _):
            state, sums = epoch.run(state, X, y, weights)
            seen = observe(state.params, *observed) if observe is not None else None
            return state, (sums, seen)

        return jax.lax.scan(one, state, None, length=epochs)

    return whole


@named(**IN_A_WHOLE_RUN)
def make_train(
    init: Callable[[jax.Array], Params],
    tx: optax.GradientTransformation,
    epoch: Epoch,
    epochs: int,
    *,
    observe: Callable | None = None,
) -> Callable:
    """A whole run as a pure function of its root key (purejaxrl's `make_train`).

    `train(key, data, observed=()) -> (state, (train_sums, observations))`: params from
    `init(keys.init)`, the state's key `keys.train` (`run_keys(key)`), as a CLI run with that
    seed draws them; `data` is (X, y) or (X, y, weights); after each epoch
    `observe(params, *observed)` (e.g. `make_evaluate`'s evaluation with
    `observed=(X_test, y_test)`); both stacked over epochs (`summarize` turns sums into
    means, epoch by epoch). Not jitted: `jax.jit(train)` for one run,
    `jax.jit(jax.vmap(train, in_axes=(0, None, None)))(keys, data, observed)` for one run
    per key in one program, and `in_axes=(None, (None, None, 0), (None, None, 0))` over the
    rows of `kfold_weights` for K folds in one program. The data are arguments, never
    closed over (closed-over arrays become compile-time constants).

    Args:
      init: `init(key) -> params` (e.g. `model.init`).
      tx: the optimizer.
      epoch: an `Epoch` (`make_epoch`, or `epoch_function` for your own).
      epochs: epochs per run.
      observe: `observe(params, *observed) -> pytree`, stacked over epochs.

    Returns:
      `train`, a pure function of its arguments.

    Raises:
      ValueError, TypeError: (from `train`) a key that is not one key, data or weights
        whose shapes do not match (weights' values too when they are not traced).
    """
    checks.callable_(init, "init")
    check_tx(tx)
    epoch, epochs = as_epoch(epoch), checks.epochs(epochs)
    if observe is not None:
        checks.callable_(observe, "observe")
    whole = scan_epochs(epoch, epochs, observe)

    def train(key, data, observed=()):
        checks.key(key, "key")  # one key: vmap train once per axis of a grid of keys
        X, y, weights = _data(data)
        epoch.check(int(X.shape[0]), epochs)
        if not isinstance(observed, tuple):
            raise ArgumentError(
                f"observed must be a tuple of observe's arguments, got {type(observed).__name__}"
            )
        keys = run_keys(key)
        state = init_state(init(keys.init), tx, keys.train)
        return whole(state, X, y, weights, *observed)

    return train


DATA = {"X": array(), "y": array(rows_of="X")}


def _data(data) -> tuple:
    """(X, y, weights or None) from (X, y) or (X, y, weights), checked as far as tracing
    allows (shapes always; weights' values when concrete)."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ArgumentError("data must be (X, y) or (X, y, weights)")
    X, y, *rest = data
    check_arrays({"X": X, "y": y}, DATA)
    weights = rest[0] if rest else None
    if weights is not None:
        weights = checks.example_weights(weights, X.shape[0], "weights")
    return X, y, weights


@named(**IN_A_WHOLE_RUN)
def fit_whole_run(
    state: TrainState,
    epoch: Epoch,
    train: tuple,
    epochs: int,
    *,
    evaluate: Callable | None = None,
    test: tuple | None = None,
    validation: tuple | None = None,
    divergence_factor: float | None = divergence.FACTOR,
) -> FitResult:
    """`fit` as one compiled program: `make_train`'s scan from `state` to `epochs`, each
    epoch then `evaluate` on `test`; nothing returns to the host until the end. Takes no
    hooks (nothing runs between epochs): use `fit` for checkpoints, early stopping and
    callbacks.

    Args:
      state: the initial `TrainState` (never donated: a copy trains).
      epoch: an `Epoch`.
      train: (X, y) or (X, y, weights).
      epochs: the epoch to stop at.
      evaluate: `evaluate(params, X, y[, weights]) -> sums`, run on `test` after each epoch.
      test: (X, y) or (X, y, weights); goes with `evaluate`.
      validation: in place of `test`, a split held out for choosing (`validation_*` keys).
      divergence_factor: the divergence rule's factor, applied to the records afterwards;
        None turns it off.

    Returns:
      `FitResult` with `fit`'s records less the per-epoch seconds; `timing["run_s"]` is the
      whole run, `timing["compile_s"]` its compilation.

    Raises:
      DivergedError: at the first epoch that broke the rule, with the history up to there.
    """
    run = check_run(state, epoch, train, epochs, evaluate, test, validation)
    start = int(jax.device_get(run.state.epoch))
    n = run.epochs - start
    observed = run.test.given() if run.test is not None else ()
    program = jax.jit(scan_epochs(run.epoch, n, evaluate), donate_argnums=0)
    t0 = time.perf_counter()
    compiled = program.lower(run.state, *run.train, *observed).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    state, (train_sums, test_sums) = jax.block_until_ready(
        compiled(run.state, *run.train, *observed)
    )
    run_s = time.perf_counter() - t0
    history = records(train_sums, test_sums, start, run.epoch.parallel, run.evaluated)
    for i in range(len(history)):
        check_divergence(history[: i + 1], divergence_factor)
    timing = {"compile_s": compile_s, "run_s": run_s, "epoch_s_mean": run_s / max(n, 1)}
    return FitResult(state, history, timing)


def records(train_sums, test_sums, start: int, parallel=None, evaluated="test") -> list[dict]:
    """One history record per epoch (counted from `start + 1`) from sums stacked over
    epochs."""
    to_host = jax.device_get if parallel is None else parallel.to_host
    train_sums, test_sums = to_host((train_sums, test_sums))
    history = []
    for e in range(len(train_sums["count"])):
        one = {k: v[e] for k, v in train_sums.items()}
        record = {"epoch": start + e + 1, **host_means(one, "train")}
        if test_sums is not None:
            record.update(host_means({k: v[e] for k, v in test_sums.items()}, evaluated))
        history.append(record)
    return history


@named(**IN_A_WHOLE_RUN)
def fit_python_loop(
    state: TrainState,
    epoch: Epoch,
    train: tuple,
    epochs: int,
    *,
    divergence_factor: float | None = divergence.FACTOR,
) -> FitResult:
    """`fit` with the epoch unrolled on the host, for teaching and debugging: the batches
    of `epoch.plan` (every remainder mode), then a jitted step called once per batch.

    Args:
      state: the initial `TrainState` (never donated).
      epoch: an `Epoch` from `make_epoch` (its step is called; one device only).
      train: (X, y) or (X, y, weights).
      epochs: the epoch to stop at.
      divergence_factor: the divergence rule's factor after every epoch; None turns it off.

    Returns:
      `FitResult`: the same parameters as `fit` reaches, and its records.

    Raises:
      DivergedError: an epoch broke the divergence rule.
      ValueError: an epoch with no step to unroll (your own epoch function), or a data
        parallel one.
    """
    run = check_run(state, epoch, train, epochs)
    epoch = run.epoch
    if epoch.step is None or epoch.parallel is not None or epoch.per_batch:
        raise ArgumentError(
            "fit_python_loop unrolls the step of an epoch from make_epoch on one device: "
            "use fit for your own epoch function, data parallel or per-batch sums"
        )
    (X, y, weights), state = run.train, run.state
    prepare = epoch.prepare or (lambda X: X)
    # the batches from the state's key and epoch alone (the params need not travel)
    plan = jax.jit(lambda key, e: epoch.plan(TrainState(None, None, key, e), X.shape[0]))

    @jax.jit
    def step(state, total, i, m, b):  # the epoch's sums stay on the device
        if weights is not None:
            m = m * weights[i]
        batch = Batch(prepare(make_gather(X)(i)), y[i], m, batch_key(state.epoch_key(), b))
        inner, sums = epoch.step(state._replace(key=None, epoch=None), batch)
        state = state._replace(params=inner.params, opt_state=inner.opt_state)
        return state, jax.tree.map(jnp.add, total, sums)

    t0 = time.perf_counter()
    idx, mask = plan(state.key, state.epoch)
    one = (idx[0], mask[0], jnp.int32(0))
    inner = state._replace(key=None, epoch=None)
    sums_shape = jax.eval_shape(
        lambda s, i, m: epoch.step(s, Batch(prepare(make_gather(X)(i)), y[i], m, state.key)),
        inner,
        idx[0],
        mask[0],
    )[1]
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), sums_shape)
    step = step.lower(state, zeros, *one).compile()
    compile_s = time.perf_counter() - t0
    history, epoch_s = [], []
    t_start = time.perf_counter()
    start = int(jax.device_get(state.epoch))
    for e in range(start, run.epochs):
        t0 = time.perf_counter()
        idx, mask = plan(state.key, state.epoch)
        total = zeros
        for b in range(idx.shape[0]):
            state, total = step(state, total, idx[b], mask[b], jnp.int32(b))
            if e == 0 and b == 0:  # the untrained model's loss: the rule's yardstick
                first = float(total["loss"] / jnp.maximum(total["count"], 1.0))
        state = state._replace(epoch=state.epoch + 1)
        jax.block_until_ready((state, total))
        epoch_s.append(time.perf_counter() - t0)
        history.append({"epoch": e + 1, **host_means(total, "train"), "seconds": epoch_s[-1]})
        if e == 0:
            history[-1][f"train_{FIRST_BATCH_LOSS}"] = first
        check_divergence(history, divergence_factor)
    timing = {"compile_s": compile_s, "epoch_s": epoch_s, "total_s": time.perf_counter() - t_start}
    return FitResult(state, history, timing)
