"""The reference rows: jaxd2l against d2l's PyTorch code (experiments/reference_pytorch.py),
same data, same machine, several seeds; torch runs in a child process without JAX."""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np

from jaxd2l.chapters.classification import scratch_loss, train_classifier
from jaxd2l.core import history
from jaxd2l.core.step import Model
from jaxd2l.models import mlp, softmax
from jaxd2l.nn.optim import sgd


def jax_model(model: str) -> Model:
    return softmax.model() if model == "softmax" else mlp.model((784, 256, 10))


FLAVOURS = {
    "d2l PyTorch": "experiments.reference_pytorch",
    "tuned PyTorch": "experiments.reference_pytorch_tuned",
}
"""The PyTorch baselines: the book's code, and a tuned version of it."""


def summarize_runs(
    histories: list[list[dict]], compile_s: list[float] | None = None, total_s=None
) -> dict:
    accs = [h[-1]["test_acc"] for h in histories]
    seconds = [r["seconds"] for h in histories for r in h]
    out = {
        "test_acc_median": statistics.median(accs),
        "test_acc_min": min(accs),
        "test_acc_max": max(accs),
        "test_acc": accs,
        "train_loss_median": statistics.median(h[-1]["train_loss"] for h in histories),
        "epoch_s_median": statistics.median(seconds),
    }
    if compile_s is not None:
        out["compile_s_first"] = compile_s[0]
    if total_s is not None:  # the whole run: compilation, every epoch and evaluation
        out["run_s_median"] = statistics.median(total_s)
    return out


def run_jax(model: str, train, test, *, seeds: int, epochs: int, batch_size: int, lr: float):
    """jaxd2l's scratch model over seeds 0..seeds-1, keys as a CLI run with that seed."""
    histories, compiles, totals = [], [], []
    for seed in range(seeds):
        t0 = time.perf_counter()
        result = train_classifier(
            jax_model(model),
            sgd(lr),
            scratch_loss(),
            train,
            test,
            epochs=epochs,
            batch_size=batch_size,
            key=jax.random.key(seed),
        )
        totals.append(time.perf_counter() - t0)
        histories.append(history.records(result.history))
        compiles.append(result.timing["compile_s"])
    return summarize_runs(histories, compiles, totals)


def save_for_torch(path: str, train, test) -> None:
    np.savez(
        path, train_images=train[0], train_labels=train[1], test_images=test[0], test_labels=test[1]
    )


def run_torch(
    model: str,
    data_path: str,
    tmp: str,
    *,
    seeds: int,
    epochs: int,
    batch_size: int,
    lr: float,
    workers: int,
    module: str = FLAVOURS["d2l PyTorch"],
) -> tuple[dict, dict]:
    """PyTorch code (`module`) in a child process without JAX; (summary, torch info)."""
    histories, totals = [], []
    for seed in range(seeds):
        out = os.path.join(tmp, f"{model}-{seed}.json")
        cmd = [
            sys.executable,
            "-m",
            module,
            data_path,
            model,
            "--epochs",
            str(epochs),
            "--batch-size",
            str(batch_size),
            "--lr",
            str(lr),
            "--seed",
            str(seed),
            "--out",
            out,
        ]
        if module == FLAVOURS["d2l PyTorch"]:
            cmd += ["--workers", str(workers)]
        subprocess.run(cmd, check=True)
        with open(out) as fh:
            result = json.load(fh)
        histories.append(result["history"])
        totals.append(result.get("total_s"))
    info = {"version": result["torch"], "threads": result["threads"]}
    return summarize_runs(histories, None, totals if None not in totals else None), info


def compare(
    data: dict, notes: list[str], *, torch: bool, workers: int, progress, **settings
) -> dict:
    """jaxd2l and, when `torch` is asked for and installed, d2l's PyTorch code on the same
    data; `settings` are seeds, epochs, batch_size and lr. A missing torch adds a note."""
    train_np, test_np = data["fashion"]
    train, test = jax.device_put(train_np), jax.device_put(test_np)
    use_torch = torch and importlib.util.find_spec("torch") is not None
    if torch and not use_torch:
        notes.append("torch is not installed: PyTorch reference rows skipped (pip install torch)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "fashion_mnist.npz")
        if use_torch:
            save_for_torch(data_path, train_np, test_np)
        for model in ("softmax", "mlp"):
            progress(f"reference: {model}")
            results[model] = {"jaxd2l": run_jax(model, train, test, **settings)}
            for name, module in FLAVOURS.items() if use_torch else ():
                progress(f"reference: {model}, {name}")
                results[model][name], _ = run_torch(
                    model, data_path, tmp, workers=workers, module=module, **settings
                )
    return results


def table(results: dict) -> str:
    """Every framework's row: accuracy, loss, seconds per epoch, the whole run, and its
    epoch time over jaxd2l's."""
    lines = [
        "| model | framework | test acc median [min, max] | train loss | s/epoch | whole run, s "
        "| epoch time / jaxd2l's |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, by_fw in results.items():
        for fw, r in by_fw.items():
            ratio = r["epoch_s_median"] / by_fw["jaxd2l"]["epoch_s_median"]
            run_s = f"{r['run_s_median']:.2f}" if "run_s_median" in r else ""
            lines.append(
                f"| {model} | {fw} | {r['test_acc_median']:.4f} [{r['test_acc_min']:.4f}, "
                f"{r['test_acc_max']:.4f}] | {r['train_loss_median']:.4f} | "
                f"{r['epoch_s_median']:.3f} | {run_s} | {ratio:.1f}x |"
            )
    return "\n".join(lines)


def brief(summary: dict) -> str:
    return (
        f"test acc median {summary['test_acc_median']:.4f} "
        f"[{summary['test_acc_min']:.4f}, {summary['test_acc_max']:.4f}], "
        f"{summary['epoch_s_median']:.3f} s/epoch"
    )
