"""Timing that an accelerator cannot fool: every run behind `block_until_ready`, compile
apart, the median and spread over repeats, and the machine's load recorded beside it."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax


def seconds(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> list[float]:
    """Wall seconds of `fn()` (its result waited for), after `warmup` untimed calls."""
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return times


def spread(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def compile_seconds(jitted: Callable, *args: Any) -> tuple[Any, float]:
    """(compiled, seconds) for an ahead-of-time compile of `jitted` at `args`."""
    t0 = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - t0
