"""d2l's train_ch3, done on the device: a host loop over compiled, scanned epochs.

Compilation is timed apart from steady state (ahead-of-time `lower().compile()`), every
epoch is timed with `block_until_ready`, and only per-epoch figures reach the host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from jaxd2l.train import TrainState, summarize

EpochCallback = Callable[[dict[str, Any]], None]


@dataclass
class FitResult:
    state: TrainState
    history: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self):
        return self.state.params


def _host_means(sums, prefix: str) -> dict[str, Any]:
    """Per-example means as floats (lists of floats, one per trial, for a vmapped step)."""
    means = jax.device_get(summarize(sums))
    return {f"{prefix}_{k}": np.asarray(v).tolist() for k, v in means.items() if k != "count"}


def fit(
    state: TrainState,
    run_epoch: Callable,
    train: tuple[jax.Array, jax.Array],
    key: jax.Array,
    epochs: int,
    *,
    evaluate: Callable | None = None,
    test: tuple[jax.Array, jax.Array] | None = None,
    callbacks: Iterable[EpochCallback] = (),
) -> FitResult:
    """Train for `epochs` epochs; epoch e shuffles with `fold_in(key, e)`.

    `run_epoch` comes from `train.make_epoch`, `evaluate` from `train.make_evaluate` (run
    on `test` after every epoch). Each epoch's record (`train_loss`, `train_acc` when the
    step computes accuracy, `test_*`, `seconds`) goes to every callback as it finishes.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    X, y = train
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    epoch_fn = run_epoch.lower(state, X, y, key).compile()
    eval_fn = evaluate.lower(state.params, *test).compile() if evaluate is not None else None
    compile_s = time.perf_counter() - t0

    history, epoch_s = [], []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        state, sums = epoch_fn(state, X, y, jax.random.fold_in(key, epoch))
        jax.block_until_ready((state, sums))
        seconds = time.perf_counter() - t0
        epoch_s.append(seconds)
        record = {"epoch": epoch + 1, **_host_means(sums, "train"), "seconds": seconds}
        if eval_fn is not None:
            t0 = time.perf_counter()
            record.update(_host_means(eval_fn(state.params, *test), "test"))
            record["eval_seconds"] = time.perf_counter() - t0
        history.append(record)
        for callback in callbacks:
            callback(record)
    timing = {
        "compile_s": compile_s,
        "epoch_s": epoch_s,
        "median_epoch_s": sorted(epoch_s)[len(epoch_s) // 2],
        "total_s": time.perf_counter() - t_start,
    }
    return FitResult(state, history, timing)
