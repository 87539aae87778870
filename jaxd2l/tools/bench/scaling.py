"""The benchmark's scaling sections: float32 against bfloat16, N vmapped trials against N
sequential, and data parallel over 1, 2, 4, ... devices. Records as in `sections`."""

from __future__ import annotations

import math

import jax
import numpy as np

from jaxd2l.chapters import flops
from jaxd2l.core.fit import fit
from jaxd2l.core.parallel import data_parallel
from jaxd2l.core.step import init_state
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.stacks import with_learning_rates
from jaxd2l.tools.bench.precision import mixed
from jaxd2l.tools.bench.sections import Progress, epoch_timing, record
from jaxd2l.tools.bench.timing import compile_seconds, seconds
from jaxd2l.tools.bench.workloads import data_for


def precision_comparison(workloads, batch_size, epochs, data, progress: Progress) -> list[dict]:
    """float32 against bfloat16 compute with float32 master params: accuracy and speed."""
    records = []
    for w in workloads:
        train_split, test_split = data_for(w, data)
        for dtype, apply in (("float32", w.apply), ("bfloat16", mixed(w.apply))):
            progress(f"precision: {w.name} {dtype}")
            tx, run_epoch = w.epoch(batch_size, apply=apply)
            state = init_state(w.init(jax.random.key(0)), tx, jax.random.key(1))
            result = fit(
                state,
                run_epoch,
                train_split,
                epochs,
                evaluate=w.evaluate(apply),
                test=test_split,
            )
            last = result.last
            records.append(
                record(
                    "precision",
                    w,
                    batch_size,
                    result.timing["epoch_s"],
                    dtype=dtype,
                    epochs=epochs,
                    test_acc=last.get("test_acc"),
                    train_loss=last["train_loss"],
                    compile_s=result.timing["compile_s"],
                )
            )
    return records


def trials_scaling(workloads, counts, batch_size, data, repeats, limits, progress) -> list[dict]:
    """N trials vmapped in one program against N run one after another (N x one trial's
    measured epoch): trial-epochs per second and the fraction of the matmul rate used."""
    records = []
    for w in workloads:
        (X, y), _ = data_for(w, data)
        X, y = jax.device_put((X, y))
        steps = math.ceil(len(y) / batch_size)
        step_flops = flops.dense_step_flops(w.sizes, batch_size)["total"]
        single = None
        for n in counts:
            progress(f"trials: {w.name} x{n}")
            lrs = list(np.geomspace(0.01, 0.5, n))
            tx, states = with_learning_rates(w.init(jax.random.key(0)), sgd, lrs, jax.random.key(1))
            _, run_epoch = w.epoch(batch_size, tx, vmapped=True)
            compiled, compile_s = compile_seconds(run_epoch, states, X, y, None)
            box = [states]

            def one(compiled=compiled, box=box, X=X, y=y):
                box[0], sums = compiled(box[0], X, y, None)
                return sums

            times = seconds(one, repeats)
            median = float(np.median(times))
            single = median if n == 1 else single
            records.append(
                record(
                    "trials",
                    w,
                    batch_size,
                    times,
                    trials=n,
                    driver="vmap",
                    compile_s=compile_s,
                    trial_epochs_per_s=n / median,
                    sequential_trial_epochs_per_s=(1.0 / single) if single else None,
                    fraction_of_matmul=n * step_flops * steps / median / limits["peak_flops"],
                    time_at_matmul_rate=n * step_flops * steps / limits["peak_flops"],
                )
            )
    return records


def device_scaling(workloads, batch_size, data, repeats, progress: Progress) -> list[dict]:
    """Data parallel over 1, 2, 4, ... of the devices JAX sees (the same global batch)."""
    counts = [d for d in (1, 2, 4, 8, 16, 32, 64) if d <= jax.device_count()]
    records = []
    for w in workloads:
        split = data_for(w, data)
        for d in counts:
            if batch_size % d:
                continue
            progress(f"devices: {w.name} on {d}")
            parallel = data_parallel(d) if d > 1 else None
            compile_s, times = epoch_timing(w, batch_size, split, repeats, parallel=parallel)
            records.append(record("devices", w, batch_size, times, devices=d, compile_s=compile_s))
    return records
