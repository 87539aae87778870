"""The reference rows: jaxd2l against d2l's PyTorch code (experiments/reference_pytorch.py),
same data, same machine, several seeds; torch runs in a child process without JAX."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

import jax
import numpy as np

from jaxd2l.classification import scratch_loss, train_classifier
from jaxd2l.models import mlp, softmax
from jaxd2l.optim import sgd


def jax_model(model: str, key):
    if model == "softmax":
        return softmax.init(key), softmax.apply
    return mlp.init(key, (784, 256, 10)), mlp.apply


def summarize_runs(histories: list[list[dict]], compile_s: list[float] | None = None) -> dict:
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
    return out


def run_jax(model: str, config: Any, train, test) -> dict:
    histories, compiles = [], []
    for seed in range(config.seeds):
        params, apply = jax_model(model, jax.random.fold_in(jax.random.key(seed), 1))
        result = train_classifier(
            params,
            apply,
            sgd(config.lr),
            scratch_loss(),
            train,
            test,
            epochs=config.epochs,
            batch_size=config.batch_size,
            key=jax.random.fold_in(jax.random.key(seed), 2),
        )
        histories.append(result.history)
        compiles.append(result.timing["compile_s"])
    return summarize_runs(histories, compiles)


def save_for_torch(path: str, train, test) -> None:
    np.savez(
        path, train_images=train[0], train_labels=train[1], test_images=test[0], test_labels=test[1]
    )


def run_torch(model: str, config: Any, data_path: str, tmp: str) -> tuple[dict, dict]:
    """d2l's PyTorch code in a child process without JAX; (summary, torch info)."""
    histories = []
    for seed in range(config.seeds):
        out = os.path.join(tmp, f"{model}-{seed}.json")
        cmd = [
            sys.executable,
            "-m",
            "experiments.reference_pytorch",
            data_path,
            model,
            "--epochs",
            str(config.epochs),
            "--batch-size",
            str(config.batch_size),
            "--lr",
            str(config.lr),
            "--seed",
            str(seed),
            "--workers",
            str(config.torch_workers),
            "--out",
            out,
        ]
        subprocess.run(cmd, check=True)
        with open(out) as fh:
            result = json.load(fh)
        histories.append(result["history"])
    return summarize_runs(histories), {"version": result["torch"], "threads": result["threads"]}


def table(results: dict) -> str:
    lines = [
        "| model | framework | test acc median [min, max] | train loss | s/epoch | PyTorch / JAX |",
        "|---|---|---|---|---|---|",
    ]
    for model, by_fw in results.items():
        for fw, r in by_fw.items():
            ratio = ""
            if fw == "jaxd2l" and "d2l PyTorch" in by_fw:
                ratio = f"{by_fw['d2l PyTorch']['epoch_s_median'] / r['epoch_s_median']:.1f}x"
            lines.append(
                f"| {model} | {fw} | {r['test_acc_median']:.4f} [{r['test_acc_min']:.4f}, "
                f"{r['test_acc_max']:.4f}] | {r['train_loss_median']:.4f} | "
                f"{r['epoch_s_median']:.3f} | {ratio} |"
            )
    return "\n".join(lines)


def brief(summary: dict) -> str:
    return (
        f"test acc median {summary['test_acc_median']:.4f} "
        f"[{summary['test_acc_min']:.4f}, {summary['test_acc_max']:.4f}], "
        f"{summary['epoch_s_median']:.3f} s/epoch"
    )
