"""Where each model's time goes on the device in front of you, against that device's limits.

    python -m experiments.benchmark [--quick] [--sections limits,models,drivers,precision,
        trials,devices,startup,reference] [--models linear,softmax,mlp,deep_mlp]
        [--batch-sizes 16,...,8192] [--repeats 3] [--epochs 3] [--trials 1,2,4,...,64] [--out DIR]

Sections (all by default, on whatever devices JAX sees; nothing assumes a platform):
- limits: matmul FLOP/s (default and highest precision), memory bandwidth, one dispatch,
  host-to-device rate, plus the epoch's own matmuls timed alone (MLP, batch 256);
- models: every model across batch sizes: compile apart, s/epoch (median, min, max over
  --repeats), examples/s, steps/s, FLOPs and bytes per step (XLA's cost analysis checked
  against a hand count), achieved FLOP/s, its fraction of the matmul rate and the bound;
- drivers: Python loop over a jitted step, scanned epochs, the whole run in one program;
- precision: float32 against bfloat16 compute with float32 master parameters;
- trials: N vmapped trials against N sequential, softmax and MLP;
- devices: data parallel over 1, 2, 4, ... devices (--cpu-devices N: the path only);
- startup: the whole softmax run, process start to metrics.json, against `import jax` and
  one array (fresh processes, warm caches, --repeats alternating runs of each);
- reference: jaxd2l against d2l's PyTorch code over --seeds seeds (skipped without torch).
A flag of one section (--seeds, --cpu-devices, --torch) given without it is refused.
--quick: softmax, batch 256, one repeat, one epoch (each unless given), small probes. Writes
DIR/bench.json, bench.md and figures (DIR: runs/benchmark); prints the table last.
"""

from __future__ import annotations

import dataclasses

from jaxd2l.checks import files
from jaxd2l.cli import DataFlags, Run, device_info, flag, run_cli, when, write_json
from jaxd2l.tools.bench import reference, startup, suite
from jaxd2l.tools.bench.suite import SECTIONS
from jaxd2l.tools.bench.workloads import WORKLOADS, load_data

# What --quick shrinks: only the flags left at their defaults (an explicit flag wins).
QUICK = {
    "models": ("softmax",),
    "batch_sizes": (256,),
    "repeats": 1,
    "epochs": 1,
    "trials": (1, 2),
    "seeds": 1,
    "reference_epochs": 1,
}
BATCH_SIZES, TRIAL_COUNTS = (16, 64, 256, 1024, 4096, 8192), (1, 2, 4, 8, 16, 32, 64)
MODELS, TRIALS = when("sections", "models"), when("sections", "trials")  # flags these need
REFERENCE, DEVICES = when("sections", "reference"), when("sections", "devices")


@dataclasses.dataclass(frozen=True)
class Config(DataFlags):
    sections: tuple[str, ...] = flag(SECTIONS, "sections to run", choices=SECTIONS)
    quick: bool = flag(False, "smoke run: what QUICK says, for the flags not given")
    models: tuple[str, ...] = flag(tuple(WORKLOADS), "sweep's models", choices=tuple(WORKLOADS))
    batch_sizes: tuple[int, ...] = flag(BATCH_SIZES, "batch sizes", min=1, max=2**20, needs=MODELS)
    batch_size: int = flag(256, "drivers, precision, trials, devices: batch", min=1, max=2**24)
    repeats: int = flag(3, "timed epochs per measurement", min=1, max=1000)
    epochs: int = flag(3, "epochs of the drivers and precision runs", min=1, max=10**5)
    trials: tuple[int, ...] = flag(TRIAL_COUNTS, "vmapped", min=1, max=4096, needs=TRIALS)
    seeds: int = flag(3, "seeds per model and framework", min=1, max=1000, needs=REFERENCE)
    reference_epochs: int = flag(10, "epochs per run", min=1, max=1000, needs=REFERENCE)
    lr: float = flag(0.1, "learning rate", gt=0)
    torch: bool = flag(True, "also run d2l's PyTorch code (if installed)", needs=REFERENCE)
    torch_workers: int = flag(4, "DataLoader workers (d2l: 4)", min=0, max=256, needs=REFERENCE)
    cpu_devices: int | None = flag(None, "CPU devices", min=1, max=256, needs=DEVICES)

    def effective(self) -> Config:
        """--quick shrinks the sizes and counts not given explicitly; the rest stays."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        shrunk = {k: v for k, v in QUICK.items() if getattr(self, k) == defaults[k]}
        return dataclasses.replace(self, **shrunk) if self.quick else self


def main(config: Config) -> dict:
    config = config.effective()
    with Run("benchmark", config) as run:
        device = run.record["device"] = device_info()
        kind = f"{device['device_count']} x {device['device_kind']} ({device['platform']})"
        print(f"benchmark on {kind}, jax {device['jax_version']}", flush=True)
        data = load_data(config.data_dir)
        notes = suite.notes(device, data)

        def save(records, limits):  # after every section: a failed run keeps what it measured
            run.record.update(records=records, limits=limits, notes=notes)
            run.write()
            if run.primary:
                bench = {"device": device, "limits": limits, "notes": notes, "records": records}
                write_json(run.file("bench.json"), bench)

        sizes = dict(models=config.models, batch_sizes=config.batch_sizes, trials=config.trials)
        sizes.update(batch_size=config.batch_size, repeats=config.repeats, epochs=config.epochs)
        records, limits = suite.run_sections(
            config.sections, data, **sizes, quick=config.quick, on_section=save
        )
        if "startup" in config.sections:
            suite.progress("startup")
            run.record["startup"] = startup.measure(config.repeats, config.data_dir)
            notes.append(startup.brief(run.record["startup"]))
            save(records, limits)
        if "reference" in config.sections:
            settings = dict(seeds=config.seeds, epochs=config.reference_epochs, lr=config.lr)
            settings.update(torch=config.torch, workers=config.torch_workers)
            run.record["reference"] = reference.compare(
                data, notes, progress=suite.progress, batch_size=config.batch_size, **settings
            )
            save(records, limits)
        paths = suite.save_figures(records, suite.roof_of(limits), run.file) if run.primary else {}
        markdown = suite.markdown(device, limits, records, notes, run.record.get("reference"))
        if run.primary:
            files.write_text(run.file("bench.md"), markdown)
        print(markdown)
        save(records, limits)
        final = {"records": len(records), "figures": sorted(paths)}
        summary = f"benchmark: wrote {run.file('bench.json')} and bench.md"
        return run.finish(final, summary, bench_json=run.file("bench.json"))


if __name__ == "__main__":
    run_cli(main, Config)
