"""The whole run as one program, and the drivers beside `fit` over the same epoch:
`make_train` (a whole run as a pure function of a root key, purejaxrl's shape: one
`lax.scan` over epochs, for `jax.jit(jax.vmap(train))` over seeds, folds or settings),
`fit_whole_run` (that scan from a state, as `fit` is: nothing returns to the host until the
end) and `fit_python_loop` (a jitted step once per batch, for teaching and debugging). Every
driver draws epoch e's batches from the state's key and e, so all train to the same
parameters in every remainder mode (tests/core/test_drivers.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l import checks
from jaxd2l.checks.arrays import array, check_arrays
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.checks.moved import IN_A_WHOLE_RUN
from jaxd2l.checks.signatures import named, output_of
from jaxd2l.core import history
from jaxd2l.core.arguments import check_run
from jaxd2l.core.epoch import Epoch, as_epoch
from jaxd2l.core.fit import FitResult
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import Params, TrainState, init_state, summarize


class Trained(NamedTuple):
    """What a whole run (`make_train`'s `train`) returns, a pytree `vmap` stacks."""

    state: TrainState
    """The state after the last epoch."""
    train: dict[str, jax.Array]
    """The training sums, stacked over epochs (`summarize` gives the means)."""
    observed: Any
    """`observe(params, *observed)` after each epoch, stacked over epochs (None without)."""
    untrained: jax.Array | None
    """The untrained model's first-batch loss: the divergence rule's reference, or None."""


def scan_epochs(epoch: Epoch, epochs: int, observe: Callable | None = None) -> Callable:
    """`whole(state, X, y, weights, *observed) -> (state, (sums, untrained, observations))`:
    `epochs` epochs as one `lax.scan`, each output stacked over epochs. Traceable."""

    def whole(state, X, y, weights, *observed):
        def one(state, _):
            state, sums, untrained = epoch.measure(state, X, y, weights)
            seen = observe(state.params, *observed) if observe is not None else None
            return state, (sums, untrained, seen)

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

    `train(key, data, observed=()) -> Trained(state, train, observed, untrained)`: params
    from `init(keys.init)`, the state's key `keys.train` (`run_keys(key)`), as a CLI run with
    that seed draws them; `data` is (X, y) or (X, y, weights); after each epoch
    `observe(params, *observed)` (e.g. `make_evaluate`'s evaluation with
    `observed=(X_test, y_test)`), stacked over epochs. Not jitted: `jax.jit(train)` for one
    run, `jax.jit(jax.vmap(train, in_axes=(0, None, None)))(keys, data, observed)` for one
    run per key in one program, and `in_axes=(None, (None, None, 0), (None, None, 0))` over
    the rows of `kfold_weights` for K folds in one program. The data are arguments, never
    closed over (closed-over arrays become compile-time constants).

    Args:
      init: `init(key) -> params` (e.g. `model.init`).
      tx: the optimizer.
      epoch: an `Epoch` (`make_epoch`, or `epoch_function` for your own).
      epochs: epochs per run.
      observe: `observe(params, *observed) -> pytree`, stacked over epochs.

    Returns:
      `train`, a pure function; it refuses a key that is not one key and data or weights
      whose shapes do not match (weights' values too when they are not traced).
    """
    checks.callable_(init, "init")
    checks.optimizer(tx, "tx")
    epoch, epochs = as_epoch(epoch), checks.epochs(epochs)
    if observe is not None:
        checks.callable_(observe, "observe")
    whole = scan_epochs(epoch, epochs, observe)

    def train(key, data, observed=()) -> Trained:
        checks.key(key, "key")  # one key: vmap train once per axis of a grid of keys
        X, y, weights = _data(data)
        if not isinstance(observed, tuple):
            raise ArgumentError(
                f"observed must be a tuple of observe's arguments, got {type(observed).__name__}"
            )
        keys = run_keys(key)
        state = init_state(init(keys.init), tx, keys.train)
        epoch.check(state, X, y, "data", epochs)
        if observe is not None:  # traced once more, shapes only: a caller's own function
            output_of(observe, "observe", "a pytree of arrays", state.params, *observed)
        state, (sums, untrained, seen) = whole(state, X, y, weights, *observed)
        return Trained(state, sums, seen, None if untrained is None else untrained[0])

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
    divergence_factor: float | None = history.FACTOR,
) -> FitResult:
    """`fit` as one compiled program: `make_train`'s scan from `state` to `epochs`, each
    epoch then `evaluate` on `test` (or `validation`); nothing returns to the host until
    the end, then the divergence rule reads the curve. The arguments are `fit`'s, less
    hooks (nothing runs between epochs: use `fit` for checkpoints and early stopping).

    Returns:
      `FitResult` with `fit`'s history less the per-epoch seconds; `timing["run_s"]` is the
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
    state, (sums, untrained, seen) = jax.block_until_ready(
        compiled(run.state, *run.train, *observed)
    )
    run_s = time.perf_counter() - t0
    to_host = jax.device_get if run.epoch.parallel is None else run.epoch.parallel.to_host
    sums, untrained, seen = to_host((sums, untrained, seen))
    out = {"epoch": np.arange(start + 1, run.epochs + 1), **_means(sums, "train")}
    if seen is not None:
        out.update(_means(seen, run.evaluated))
    untrained = None if untrained is None else np.asarray(untrained[0])
    curve = np.asarray(sums["loss"] / sums["count"])
    if curve.ndim == 1:  # one run; a vmapped stack's members are marked instead
        history.check_curve(curve, untrained, divergence_factor, start=start, history=out)
    timing = {"compile_s": compile_s, "run_s": run_s, "epoch_s_mean": run_s / max(n, 1)}
    return FitResult(state, out, timing, None, untrained)


def _means(sums: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    return {f"{prefix}_{k}": np.asarray(v) for k, v in summarize(sums).items() if k != "count"}


@named(**IN_A_WHOLE_RUN)
def fit_python_loop(
    state: TrainState,
    epoch: Epoch,
    train: tuple,
    epochs: int,
    *,
    divergence_factor: float | None = history.FACTOR,
) -> FitResult:
    """`fit` with the epoch unrolled on the host, for teaching and debugging: the epoch's
    batch plan (every remainder mode), then a jitted step called once per batch, reaching
    the parameters `fit` reaches. The arguments are `fit`'s, less evaluation and hooks;
    `epoch` comes from `make_epoch` (a caller's epoch function has no step to unroll) and
    runs on one device.
    """
    run = check_run(state, epoch, train, epochs)
    unrolled = run.epoch.unrolled
    if unrolled is None or run.epoch.parallel is not None:
        raise ArgumentError(
            "fit_python_loop unrolls the step of an epoch from make_epoch on one device: "
            "use fit for your own epoch function or data parallel"
        )
    (X, y, weights), state = run.train, run.state
    plan = jax.jit(lambda s: unrolled.plan(s, X.shape[0]))
    one = jax.jit(lambda s, i, m, b: unrolled.step(s, X, y, weights, i, m, b))

    @jax.jit
    def step(state, total, i, m, b):  # the epoch's sums stay on the device
        state, sums = one(state, i, m, b)
        return state, jax.tree.map(jnp.add, total, sums)

    t0 = time.perf_counter()
    idx, mask = plan(state)
    args = (idx[0], mask[0], jnp.int32(0))
    zeros = jax.tree.map(
        lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(one, state, *args)[1]
    )
    step = step.lower(state, zeros, *args).compile()
    compile_s = time.perf_counter() - t0
    records, losses, epoch_s, untrained = [], [], [], None
    t_start = time.perf_counter()
    start = int(jax.device_get(state.epoch))
    for e in range(start, run.epochs):
        t0 = time.perf_counter()
        idx, mask = plan(state)
        total = zeros
        for b in range(idx.shape[0]):
            state, total = step(state, total, idx[b], mask[b], jnp.int32(b))
            if untrained is None:  # the untrained model's first batch: the rule's yardstick
                untrained = np.asarray(total["loss"] / jnp.maximum(total["count"], 1.0))
        state = state._replace(epoch=state.epoch + 1)
        jax.block_until_ready((state, total))
        epoch_s.append(time.perf_counter() - t0)
        records.append({"epoch": e + 1, **history.means(total, "train"), "seconds": epoch_s[-1]})
        losses.append(np.asarray(total["loss"] / total["count"]))
        if losses[-1].ndim == 0:
            history.check_curve(
                losses, untrained, divergence_factor, start=start, history=history.stack(records)
            )
    timing = {"compile_s": compile_s, "epoch_s": epoch_s, "total_s": time.perf_counter() - t_start}
    return FitResult(state, history.stack(records), timing, None, untrained)
