"""Where each model's time goes on the device in front of you, against that device's limits.

    python -m experiments.benchmark [--quick] [--sections limits,models,drivers,precision,
        trials,devices,reference] [--models linear,softmax,mlp,deep_mlp]
        [--batch-sizes 16,64,256,1024,4096,8192] [--repeats 3] [--epochs 3]
        [--trials 1,2,4,...,64] [--cpu-devices N] [--torch | --no-torch] [--out DIR]

Sections (all by default, on whatever devices JAX sees; nothing assumes a platform):
- limits: matmul FLOP/s (default and highest precision), memory bandwidth, one dispatch,
  host-to-device rate, plus the epoch's own matmuls timed alone (MLP, batch 256);
- models: every model across batch sizes: compile apart, s/epoch (median, min, max over
  --repeats), examples/s, steps/s, FLOPs and bytes per step (XLA's cost analysis checked
  against a hand count), achieved FLOP/s, its fraction of the matmul rate and the bound;
- drivers: Python loop over a jitted step, scanned epochs, the whole run in one program;
- precision: float32 against bfloat16 compute with float32 master parameters;
- trials: N vmapped trials against N sequential, softmax and MLP;
- devices: data parallel over 1, 2, 4, ... devices (--cpu-devices N on a CPU shows only that
  the path works: N host devices share the same cores);
- reference: jaxd2l against d2l's PyTorch code over --seeds seeds (skipped without torch).
--quick: softmax only, batch 256, one repeat, one epoch, small limit probes (< 1 minute).
Writes DIR/bench.json (one record per measurement), DIR/bench.md, throughput.png,
roofline.png and trials.png (default DIR: runs/benchmark); the table is printed last.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import tempfile

import jax
import numpy as np

from jaxd2l.bench import limits as device_limits
from jaxd2l.bench import reference, report, sections
from jaxd2l.bench.workloads import WORKLOADS, load_data
from jaxd2l.experiment import Run, check_config, device_info, flag, run_cli, write_json

SECTIONS = ("limits", "models", "drivers", "precision", "trials", "devices", "reference")


@dataclasses.dataclass(frozen=True)
class Config:
    sections: tuple[str, ...] = flag(SECTIONS, "sections to run", choices=SECTIONS)
    quick: bool = flag(False, "smoke run: softmax, batch 256, one repeat, one epoch")
    models: tuple[str, ...] = flag(
        tuple(WORKLOADS), "models for the sweep", choices=tuple(WORKLOADS)
    )
    batch_sizes: tuple[int, ...] = flag((16, 64, 256, 1024, 4096, 8192), "batch sizes", min=1)
    batch_size: int = flag(256, "batch size of the drivers, precision, trials, devices", min=1)
    repeats: int = flag(3, "timed epochs per measurement", min=1)
    epochs: int = flag(3, "epochs of the drivers and precision runs", min=1)
    trials: tuple[int, ...] = flag((1, 2, 4, 8, 16, 32, 64), "vmapped trial counts", min=1)
    seeds: int = flag(3, "reference: seeds per model and framework", min=1)
    reference_epochs: int = flag(10, "reference: epochs per run", min=1)
    lr: float = flag(0.1, "learning rate", gt=0)
    torch: bool = flag(True, "reference: also run d2l's PyTorch code when torch is installed")
    torch_workers: int = flag(4, "reference: DataLoader workers for PyTorch (d2l uses 4)", min=0)
    cpu_devices: int | None = flag(
        None, "ask JAX for this many CPU devices (devices section)", min=1
    )
    data_dir: str | None = flag(None, "folder with the four Fashion-MNIST IDX files")
    out: str | None = flag(None, "output folder (default runs/benchmark)")

    def __post_init__(self):
        check_config(self)

    def effective(self) -> Config:
        """--quick overrides sizes and counts; the sections stay the user's."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self,
            models=("softmax",),
            batch_sizes=(256,),
            repeats=1,
            epochs=1,
            trials=(1, 2),
            seeds=1,
            reference_epochs=1,
        )


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def main(config: Config) -> dict:
    config = config.effective()
    with Run("benchmark", config) as run:
        device = device_info()
        run.record["device"] = device
        print(
            f"benchmark on {device['device_count']} x {device['device_kind']} "
            f"({device['platform']}), jax {device['jax_version']}",
            flush=True,
        )
        data = load_data(config.data_dir)
        notes = [n for n in (data["note"],) if n]
        if device["platform"] == "cpu" and device["device_count"] > 1:
            notes.append(
                f"{device['device_count']} CPU devices share the same cores: the "
                "devices section shows that the sharded path works, not a speedup"
            )
        records, limits = [], None

        def save():  # after every section: a run that fails keeps what it measured
            run.record.update(records=records, limits=limits, notes=notes)
            run.write()
            if run.primary:
                bench = {"device": device, "limits": limits, "notes": notes, "records": records}
                write_json(run.file("bench.json"), bench)

        sweep_models = [WORKLOADS[m] for m in config.models]
        # drivers, precision, trials and devices: softmax and the MLP (--quick: softmax)
        classifiers = [
            WORKLOADS[m] for m in ("softmax", "mlp") if not config.quick or m in config.models
        ]
        if "limits" in config.sections:
            _progress("limits")
            limits = device_limits.measure(config.quick)
            matmuls = sections.matmuls_alone(
                WORKLOADS["mlp"], config.batch_size, len(data["fashion"][0][1]), config.repeats
            )
            limits["mlp_matmuls_alone"] = {
                "batch_size": config.batch_size,
                **sections.spread(matmuls),
            }
            save()
        roof = _roof(limits)
        if "models" in config.sections:
            records += sections.model_sweep(
                sweep_models, config.batch_sizes, data, config.repeats, roof, _progress
            )
            save()
        if "drivers" in config.sections:
            records += sections.driver_comparison(
                classifiers, config.batch_size, config.epochs, data, config.repeats, _progress
            )
            save()
        if "precision" in config.sections:
            records += sections.precision_comparison(
                classifiers, config.batch_size, config.epochs, data, _progress
            )
            save()
        if "trials" in config.sections:
            records += sections.trials_scaling(
                classifiers, config.trials, config.batch_size, data, config.repeats, roof, _progress
            )
            save()
        if "devices" in config.sections:
            records += sections.device_scaling(
                classifiers, config.batch_size, data, config.repeats, _progress
            )
            save()
        if "reference" in config.sections:
            run.record["reference"] = _reference(config, data, notes)
            save()
        paths = _figures(run, records, roof)
        markdown = report.markdown(device, limits, records, notes + _headlines(limits, records))
        if "reference" in run.record:
            markdown += "\n## reference\n\n" + reference.table(run.record["reference"]) + "\n"
        if run.primary:
            with open(run.file("bench.md"), "w") as fh:
                fh.write(markdown)
        print(markdown)
        save()
        final = {"records": len(records), "figures": sorted(paths)}
        summary = f"benchmark: wrote {run.file('bench.json')} and bench.md"
        return run.finish(final, summary, bench_json=run.file("bench.json"))


def _roof(limits: dict | None) -> dict:
    """The two roofs the bound is read against; without the limits section, none."""
    if limits is None:
        return {"peak_flops": float("inf"), "bandwidth": float("inf")}
    return {
        "peak_flops": limits["matmul_default"]["flops_per_s"],
        "bandwidth": limits["bandwidth"]["bytes_per_s"],
    }


def _headlines(limits, records) -> list[str]:
    """The figures the issue asks for on this CPU, computed from this run."""
    lines = []
    batch = limits["mlp_matmuls_alone"]["batch_size"] if limits else None
    mlp_rows = [
        r
        for r in records
        if r["section"] == "models" and r["model"] == "mlp" and r["batch_size"] == batch
    ]
    if limits and mlp_rows:
        alone = limits["mlp_matmuls_alone"]["median"]
        row = mlp_rows[0]  # the sweep's row at the batch size the matmuls were timed at
        lines.append(
            f"MLP 784-256-10 at batch {batch}: epoch {row['median']:.3f} s = "
            f"{row['median'] / alone:.2f}x its own matmuls timed alone "
            f"({alone:.3f} s); {row['fraction_of_matmul']:.0%} of the matmul rate"
        )
    trials8 = [
        r
        for r in records
        if r["section"] == "trials" and r["model"] == "softmax" and r["trials"] == 8
    ]
    if limits and trials8:
        r = trials8[0]
        lines.append(
            f"8 vmapped softmax trials: {r['median']:.3f} s/epoch = "
            f"{r['median'] / r['time_at_matmul_rate']:.2f}x the time the matmul rate "
            "allows for their arithmetic"
        )
    drivers = {
        r["driver"]: r["median"]
        for r in records
        if r["section"] == "drivers" and r["model"] == "softmax"
    }
    if {"scan", "whole_run"} <= set(drivers):
        lines.append(
            f"softmax: scan driver {drivers['scan']:.3f} s/epoch, whole run "
            f"{drivers['whole_run']:.3f} s/epoch (evaluation included in both)"
        )
    return lines


def _figures(run: Run, records: list[dict], roof: dict) -> dict[str, str]:
    if not run.primary or not np.isfinite(roof["peak_flops"]):
        return {}
    paths = {}
    models = [r for r in records if r["section"] == "models"]
    if models:
        paths["throughput"] = report.plot_throughput(models, roof, run.file("throughput.png"))
        paths["roofline"] = report.plot_roofline(models, roof, run.file("roofline.png"))
    trials = [r for r in records if r["section"] == "trials"]
    if trials:
        paths["trials"] = report.plot_trials(trials, run.file("trials.png"))
    return paths


def _reference(config: Config, data: dict, notes: list[str]) -> dict:
    """jaxd2l and, when torch is installed, d2l's PyTorch code on the same data."""
    train_np, test_np = data["fashion"]
    train, test = jax.device_put(train_np), jax.device_put(test_np)
    ref_config = dataclasses.replace(config, epochs=config.reference_epochs)
    use_torch = config.torch and importlib.util.find_spec("torch") is not None
    if config.torch and not use_torch:
        notes.append("torch is not installed: PyTorch reference rows skipped (pip install torch)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "fashion_mnist.npz")
        if use_torch:
            reference.save_for_torch(data_path, train_np, test_np)
        for model in ("softmax", "mlp"):
            _progress(f"reference: {model}")
            results[model] = {"jaxd2l": reference.run_jax(model, ref_config, train, test)}
            if use_torch:
                summary, _ = reference.run_torch(model, ref_config, data_path, tmp)
                results[model]["d2l PyTorch"] = summary
    return results


if __name__ == "__main__":
    run_cli(main, Config)
