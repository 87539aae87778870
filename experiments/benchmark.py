"""jaxd2l against d2l's PyTorch code, side by side in one run: accuracy and seconds/epoch.

    python -m experiments.benchmark [--models softmax,mlp] [--seeds 3] [--epochs 10]
        [--torch | --no-torch] [--torch-workers 4] [--out DIR]

For each model (scratch softmax regression 784-10; scratch MLP 784-256-10), the chapter's
hyperparameters (batch 256, lr 0.1, 10 epochs) and each seed, it trains jaxd2l and, when
torch is installed (`pip install torch`), the d2l PyTorch code of the book
(experiments/reference_pytorch.py) on the same data on the same machine. It reports the
median test accuracy over seeds (with min and max), the median training seconds per
epoch (compilation apart for JAX), and the PyTorch/JAX time ratio. Writes
DIR/metrics.json (default runs/benchmark) and DIR/benchmark.md (the table).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile

import jax
import numpy as np

from jaxd2l.classification import scratch_loss, train_classifier
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.experiment import Run, check_config, flag, run_cli
from jaxd2l.models import mlp, softmax
from jaxd2l.optim import sgd

MODELS = ("softmax", "mlp")


@dataclasses.dataclass(frozen=True)
class Config:
    models: tuple[str, ...] = flag(MODELS, "models to run", choices=MODELS)
    seeds: int = flag(3, "seeds per model and framework", min=1)
    epochs: int = flag(10, "epochs per run", min=1)
    batch_size: int = flag(256, "examples per minibatch", min=1)
    lr: float = flag(0.1, "learning rate", gt=0)
    torch: bool = flag(True, "also run d2l's PyTorch code when torch is installed")
    torch_workers: int = flag(4, "DataLoader workers for PyTorch (d2l uses 4)", min=0)
    data_dir: str | None = flag(None, "folder with the four Fashion-MNIST IDX files")
    out: str | None = flag(None, "output folder (default runs/benchmark)")

    def __post_init__(self):
        check_config(self)


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


def run_jax(model, config, train, test):
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


def run_torch(model, config, data_path: str, tmp: str) -> tuple[dict, dict]:
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


def main(config: Config) -> dict:
    with Run("benchmark", config) as run, tempfile.TemporaryDirectory() as tmp:
        train_np, test_np = fm.load_train_test(data_dir=config.data_dir)
        train, test = jax.device_put(train_np), jax.device_put(test_np)
        use_torch = config.torch and importlib.util.find_spec("torch") is not None
        if config.torch and not use_torch:
            print("torch is not installed: PyTorch rows skipped (pip install torch)")
        data_path = os.path.join(tmp, "fashion_mnist.npz")
        if use_torch:
            np.savez(
                data_path,
                train_images=train_np[0],
                train_labels=train_np[1],
                test_images=test_np[0],
                test_labels=test_np[1],
            )
        results = {}
        for model in config.models:
            results[model] = {"jaxd2l": run_jax(model, config, train, test)}
            print(f"{model} jaxd2l: {_brief(results[model]['jaxd2l'])}", flush=True)
            if use_torch:
                summary, run.record["torch"] = run_torch(model, config, data_path, tmp)
                results[model]["d2l PyTorch"] = summary
                print(f"{model} d2l PyTorch: {_brief(summary)}", flush=True)
            run.record["results"] = results
            run.write()
        markdown = table(results)
        with open(run.file("benchmark.md"), "w") as fh:
            fh.write(markdown + "\n")
        print(markdown)
        return run.finish(results, f"benchmark: wrote {run.file('benchmark.md')}")


def _brief(summary: dict) -> str:
    return (
        f"test acc median {summary['test_acc_median']:.4f} "
        f"[{summary['test_acc_min']:.4f}, {summary['test_acc_max']:.4f}], "
        f"{summary['epoch_s_median']:.3f} s/epoch"
    )


if __name__ == "__main__":
    run_cli(main, Config)
