"""Start-up cost: the whole 10-epoch softmax run, process start to metrics.json, against the
floor of any JAX program (`import jax` and one array on the device), side by side.

Both commands run as fresh processes, alternating, after one warm-up run each (so the
persistent compilation cache and the prepared data are warm, as for a user's second run);
the medians and their ratio are the figure."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

FLOOR = "import jax, jax.numpy as jnp; jnp.zeros(1).block_until_ready()"


def _seconds(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(repeats: int = 5, data_dir: str | None = None) -> dict:
    """{"floor_s", "run_s": medians over `repeats`, "ratio", and every time measured}."""
    with tempfile.TemporaryDirectory() as out:
        run = [sys.executable, "-m", "experiments.softmax_regression", "--out", out]
        run += ["--data-dir", data_dir] if data_dir else []
        floor = [sys.executable, "-c", FLOOR]
        _seconds(floor), _seconds(run)  # warm: compilation cache, data cache, page cache
        floors, runs = [], []
        for _ in range(repeats):
            floors.append(_seconds(floor))
            runs.append(_seconds(run))
        wrote = os.path.exists(os.path.join(out, "metrics.json"))
    floor_s, run_s = statistics.median(floors), statistics.median(runs)
    return {
        "floor_s": floor_s,
        "run_s": run_s,
        "ratio": run_s / floor_s,
        "floor": floors,
        "run": runs,
        "wrote_metrics": wrote,
        "command": "python -m experiments.softmax_regression (10 epochs, warm caches)",
    }


def brief(result: dict) -> str:
    return (
        f"start-up: the whole softmax run {result['run_s']:.2f} s, process start to "
        f"metrics.json, = {result['ratio']:.1f}x the {result['floor_s']:.2f} s of `import jax` "
        "and one array (medians, warm caches)"
    )
