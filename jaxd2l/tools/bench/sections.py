"""The benchmark's measurements of models and drivers (`scaling` has precision, trials and
devices). Each section returns records (one per measurement) with
the same fields: section, model, batch_size, driver, dtype, devices, trials, median, min,
max (seconds per epoch unless `unit` says otherwise), flops and bytes per step, bound."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.chapters import flops
from jaxd2l.core import drivers
from jaxd2l.core.arguments import place
from jaxd2l.core.fit import fit
from jaxd2l.core.step import Batch, init_state
from jaxd2l.tools.bench.timing import compile_seconds, load_average, seconds, spread
from jaxd2l.tools.bench.workloads import Workload, data_for

Progress = Callable[[str], None]


def record(section: str, workload: Workload, batch_size: int, times: list[float], **extra) -> dict:
    base = {
        "section": section,
        "model": workload.name,
        "batch_size": batch_size,
        "driver": "scan",
        "dtype": "float32",
        "devices": 1,
        "trials": 1,
        "unit": "s/epoch",
    }
    return {**base, **spread(times), "loadavg": load_average(), **extra}


def bound(step_s: float, flops_: float, bytes_: float, limits: dict) -> str:
    """What limits a step on the roofline: compute or memory when the step takes at most
    twice what the larger of the two would need, else per-step overhead (dispatch, loop,
    gather, small kernels)."""
    t_compute = flops_ / limits["peak_flops"]
    t_memory = bytes_ / limits["bandwidth"]
    if step_s > 2.0 * max(t_compute, t_memory):
        return "overhead"
    return "compute" if t_compute >= t_memory else "memory"


def epoch_timing(workload, batch_size, data, repeats, *, tx=None, apply=None, parallel=None):
    """(compile_s, epoch seconds) of `repeats` scanned epochs."""
    (X, y), _ = data
    tx, run_epoch = workload.epoch(batch_size, tx, apply, parallel)
    state = init_state(workload.init(jax.random.key(0)), tx, jax.random.key(1))
    state, (X, y), _ = place(parallel, state, (X, y), None)
    compiled, compile_s = compile_seconds(run_epoch, state, X, y, None)
    box = [state]

    def one():
        box[0], sums = compiled(box[0], X, y, None)
        return sums

    return compile_s, seconds(one, repeats)


def step_cost(workload: Workload, batch_size: int) -> dict[str, Any]:
    """FLOPs and bytes of one compiled step, from XLA checked against the hand count."""
    tx, step = workload.step()
    state = init_state(workload.init(jax.random.key(0)), tx, jax.random.key(1))
    X = jax.ShapeDtypeStruct((batch_size, 28, 28, 1), jnp.uint8)
    y = jax.ShapeDtypeStruct((batch_size,), jnp.int32)
    if not workload.classifier:
        X = jax.ShapeDtypeStruct((batch_size, workload.sizes[0]), jnp.float32)
        y = jax.ShapeDtypeStruct((batch_size,), jnp.float32)
    prepare = workload.prepare or (lambda v: v)
    batch = Batch(X, y, jax.ShapeDtypeStruct((batch_size,), jnp.bool_))
    compiled = (
        jax.jit(lambda s, b: step(s, b._replace(X=prepare(b.X)))).lower(state, batch).compile()
    )
    return flops.step_cost(compiled, *workload.hand_cost(batch_size))


def model_sweep(workloads, batch_sizes, data, repeats, limits, progress: Progress) -> list[dict]:
    """Every model at every batch size: compile apart, s/epoch, examples/s, steps/s, FLOPs
    and bytes per step, achieved FLOP/s and its fraction of the matmul rate, the bound."""
    records = []
    for w in workloads:
        split = data_for(w, data)
        n = len(split[0][1])
        for b in batch_sizes:
            progress(f"models: {w.name} batch {b}")
            compile_s, times = epoch_timing(w, b, split, repeats)
            cost = step_cost(w, b)
            steps = math.ceil(n / b)
            median = float(np.median(times))
            achieved = cost["flops"] * steps / median
            records.append(
                record(
                    "models",
                    w,
                    b,
                    times,
                    compile_s=compile_s,
                    examples_per_s=n / median,
                    steps_per_s=steps / median,
                    flops=cost["flops"],
                    bytes=cost["bytes"],
                    cost_source=cost["source"],
                    achieved_flops_per_s=achieved,
                    fraction_of_matmul=achieved / limits["peak_flops"],
                    arithmetic_intensity=cost["flops"] / max(cost["bytes"], 1.0),
                    bound=bound(median / steps, cost["flops"], cost["bytes"], limits),
                )
            )
    return records


def matmuls_alone(workload: Workload, batch_size: int, n: int, repeats: int) -> list[float]:
    """Seconds of the matmuls of one epoch of `workload` at the step's shapes (forward,
    weight gradients, input gradients past the first layer), scanned; each product is
    summed into the carry only so that XLA cannot drop it."""
    layers = list(zip(workload.sizes[:-1], workload.sizes[1:], strict=True))
    steps = math.ceil(n / batch_size)
    key = jax.random.key(0)
    Ws = [jax.random.normal(key, (m, k)) for m, k in layers]
    X = jax.random.normal(key, (batch_size, workload.sizes[0]))
    dZs = [jax.random.normal(key, (batch_size, k)) for _, k in layers]

    @jax.jit
    def run(X, Ws, dZs):
        def body(c, _):
            H, out = X + c, 0.0
            for i, W in enumerate(Ws):
                Hn = H @ W
                out += (H.T @ dZs[i]).sum() + Hn.sum()
                if i > 0:
                    out += (dZs[i] @ W.T).sum()
                H = Hn
            return c + 1e-9 * out, None

        return jax.lax.scan(body, 0.0, None, length=steps)[0]

    return seconds(lambda: run(X, Ws, dZs), repeats)


def _warm_whole_run(run_epoch, evaluate, state, train_split, test, epochs, repeats):
    """(seconds per epoch, trained params) of the whole-run program, compiled once and
    timed warm over `repeats` runs from the same state (a program's first run pays one-off
    start-up costs, as does the scanned driver's first epoch, which its median leaves out)."""
    program = jax.jit(drivers.scan_epochs(run_epoch, epochs, evaluate), donate_argnums=0)
    X, y = jax.device_put(train_split)
    test = jax.device_put(test) if test is not None else ()
    compiled = program.lower(state, X, y, None, *test).compile()
    last = []

    def one_run():
        trained, sums = compiled(jax.tree.map(lambda a: a.copy(), state), X, y, None, *test)
        last[:] = [trained.params]
        return sums

    runs = seconds(one_run, repeats)
    return [t / epochs for t in runs], last[0]


def driver_comparison(workloads, batch_size, epochs, data, repeats, progress) -> list[dict]:
    """The Python loop over a jitted step, the scanned epoch and the whole run (epochs and
    evaluation in one program), on the same model and data; params compared."""
    records = []
    for w in workloads:
        train_split, test_split = data_for(w, data)
        tx, run_epoch = w.epoch(batch_size)
        state = init_state(w.init(jax.random.key(0)), tx, jax.random.key(1))
        evaluate = w.evaluate() if test_split is not None else None
        progress(f"drivers: {w.name}")
        python = drivers.fit_python_loop(state, run_epoch, train_split, epochs)
        scan = fit(state, run_epoch, train_split, epochs, evaluate=evaluate, test=test_split)
        whole_s, whole_params = _warm_whole_run(
            run_epoch, evaluate, state, train_split, test_split, epochs, repeats
        )
        # (times, params): scan's evaluation is timed apart, so it is added back in, as the
        # whole run has it inside.
        results = {
            "python_loop": (python.timing["epoch_s"], python.params),
            "scan": (
                list(scan.history["seconds"] + scan.history.get("eval_seconds", 0.0)),
                scan.params,
            ),
            "whole_run": (whole_s, whole_params),
        }
        reference = jax.tree.leaves(scan.params)
        for name, (times, params) in results.items():
            diff = max(
                float(np.abs(np.asarray(a) - np.asarray(b)).max())
                for a, b in zip(reference, jax.tree.leaves(params), strict=True)
            )
            records.append(
                record(
                    "drivers",
                    w,
                    batch_size,
                    times,
                    driver=name,
                    epochs=epochs,
                    max_param_diff_vs_scan=diff,
                    includes_eval=name != "python_loop" and evaluate is not None,
                )
            )
    return records
