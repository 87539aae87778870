"""The device's own limits, measured in the same run as the models: matmul FLOP/s (default
and highest matmul precision), memory bandwidth, the cost of one dispatch, and the
host-to-device transfer rate."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.tools.bench.timing import seconds, spread


def matmul_rate(n: int, repeats: int, precision: str, dtype=jnp.float32) -> dict[str, Any]:
    """FLOP/s of an n x n x n matmul (2 n^3 FLOPs) at a `jax.lax.Precision` name."""
    a = jax.random.normal(jax.random.key(0), (n, n), dtype)
    b = jax.random.normal(jax.random.key(1), (n, n), dtype)
    f = jax.jit(lambda a, b: jnp.matmul(a, b, precision=precision))
    t = spread(seconds(lambda: f(a, b), repeats))
    flops = 2.0 * n**3
    return {
        "n": n,
        "precision": precision,
        "dtype": jnp.dtype(dtype).name,
        **t,
        "flops_per_s": flops / t["median"],
    }


def bandwidth(num_bytes: int, repeats: int) -> dict[str, Any]:
    """Memory bytes/s, the better of a reduction (x.sum(): one read) and an in-place scale
    (x * 2 into the donated buffer: one read, one write; without donation a fresh output
    buffer costs page faults that are not bandwidth)."""
    x = jnp.ones(num_bytes // 4, jnp.float32)
    reduce = jax.jit(lambda x: x.sum())
    read = spread(seconds(lambda: reduce(x), repeats))
    scale = jax.jit(lambda x: x * 2.0, donate_argnums=0)
    box = [x]

    def scale_in_place():
        box[0] = scale(box[0])
        return box[0]

    write = spread(seconds(scale_in_place, repeats))
    rates = {"read": num_bytes / read["median"], "read_write": 2.0 * num_bytes / write["median"]}
    best = max(rates, key=rates.get)
    return {
        "bytes": num_bytes,
        "kind": best,
        **(read if best == "read" else write),
        "rates": rates,
        "bytes_per_s": rates[best],
    }


def dispatch_cost(calls: int) -> dict[str, Any]:
    """Seconds per call of a tiny jitted function, each waited for: the floor under any
    host-driven step."""
    x = jnp.ones(())
    f = jax.jit(lambda x: x + 1.0)
    per_call = [t for t in seconds(lambda: f(x), calls, warmup=10)]
    return {"calls": calls, **spread(per_call)}


def transfer_rate(num_bytes: int, repeats: int) -> dict[str, Any]:
    """Host-to-device bytes/s of a numpy array (`jax.device_put`)."""
    host = np.ones(num_bytes // 4, np.float32)
    device = jax.devices()[0]
    t = spread(seconds(lambda: jax.device_put(host, device), repeats))
    return {"bytes": num_bytes, **t, "bytes_per_s": num_bytes / t["median"]}


def measure(quick: bool) -> dict[str, Any]:
    """All four, sized for the platform (an accelerator gets bigger problems)."""
    accelerator = jax.devices()[0].platform != "cpu"
    n = 512 if quick else (8192 if accelerator else 2048)
    repeats = 2 if quick else 5
    mb = 16 if quick else (1024 if accelerator else 256)
    return {
        "matmul_default": matmul_rate(n, repeats, "default"),
        "matmul_highest": matmul_rate(n, repeats, "highest"),
        "bandwidth": bandwidth(mb * 2**20, repeats),
        "dispatch": dispatch_cost(20 if quick else 500),
        "host_to_device": transfer_rate(mb * 2**20, repeats),
    }
