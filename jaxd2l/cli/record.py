"""The run record: metrics.json rewritten after every epoch, so a failed run keeps what it had."""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import time
from typing import Any

import jax

from jaxd2l.checks import files
from jaxd2l.checks.errors import UserError
from jaxd2l.cli.events import EventLog
from jaxd2l.core import history
from jaxd2l.core.history import DivergedError


def device_info() -> dict[str, Any]:
    """The platform, device kind and count, processes, and jax/jaxlib versions."""
    d = jax.devices()[0]
    return {
        "platform": d.platform,
        "device_kind": d.device_kind,
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "jax_version": jax.__version__,
        "jaxlib_version": getattr(jax.lib, "__version__", None),
    }


def jsonable(value: Any) -> Any:
    """Plain JSON: arrays to lists, non-finite floats to None (a diverged run stays valid JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str, payload: Any) -> None:
    """Atomic write: a crash mid-write never leaves a truncated file."""
    files.write_json(path, jsonable(payload), indent=2)


def write_csv(rows: list[dict[str, Any]], path: str) -> None:
    """Rows of one shape as a CSV table, header from the first row (atomic, like JSON)."""
    with files.atomic_open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def output_dir(config: Any, experiment: str, impl: str | None = None) -> str:
    """`--out` when given, else runs/<experiment>[/<impl>]."""
    if getattr(config, "out", None):
        return config.out
    return os.path.join("runs", experiment, impl) if impl else os.path.join("runs", experiment)


FOLDERS = ("hparams",)  # what TensorBoard's writer makes under --out later (hparams tables)
FILES = ("metrics.json", "curves.png", "predictions.png")  # the runner's own files


def planned_outputs(experiment: str) -> tuple[set[str], set[str]]:
    """(files, folders) a run of `experiments.<experiment>` writes under --out: the runner's
    own, and every literal name its module passes to `run.file` (read from its source)."""
    import ast
    import importlib.util

    names = set(FILES)
    spec = importlib.util.find_spec(f"experiments.{experiment}")
    if spec is not None and spec.origin and os.path.exists(spec.origin):
        with open(spec.origin, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if call and node.func.attr == "file" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
    return names, set(FOLDERS)


def check_outputs(out: str, experiment: str) -> None:
    """Before the run starts: every path it will write under --out can be written (a
    folder where a file goes, or a file where its writers make a folder, is refused in one
    line naming the path and --out)."""
    planned, folders = planned_outputs(experiment)
    for name in sorted(planned):
        if os.path.isdir(os.path.join(out, name)):
            raise UserError(
                f"--out {out}: {name} is a folder, and this run writes a file there: remove "
                "it or give another --out"
            )
    for name in sorted(folders):
        path = os.path.join(out, name)
        if os.path.exists(path) and not os.path.isdir(path):
            raise UserError(
                f"--out {out}: {name} is a file, and this run's TensorBoard writer makes a "
                "folder there: remove it or give another --out"
            )


def _status_of(exc: BaseException) -> str:
    if isinstance(exc, DivergedError):
        return "diverged"
    return "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"


class Run:
    """metrics.json for one run, rewritten after every epoch so a failure keeps what it had.

    Use as a context manager: entering checks that the output folder can be written (a
    UserError naming --out if not, before any training); an exception marks the record
    `failed`, `diverged` or `interrupted` with the error and re-raises. `finish` writes the
    final figures and prints the summary line. In a multi-process run only process 0
    (`primary`) writes files.
    """

    def __init__(self, experiment: str, config: Any, impl: str | None = None):
        self.out = output_dir(config, experiment, impl)
        self.path = os.path.join(self.out, "metrics.json")
        self.primary = jax.process_index() == 0
        self.started = time.time()
        self.record: dict[str, Any] = {
            "experiment": experiment,
            "impl": impl,
            "status": "running",
            "config": dataclasses.asdict(config),
            "device": device_info(),
            "final": {},
            "history": [],
            "timing": {},
        }
        self.events: EventLog | None = None

    def file(self, name: str) -> str:
        return os.path.join(self.out, name)

    def __enter__(self) -> Run:
        if self.primary:
            files.output_folder(self.out, "--out")
            check_outputs(self.out, self.record["experiment"])
            self.events = EventLog(self.out)  # TensorBoard: tensorboard --logdir runs
            try:
                self.write()
            except OSError as e:
                reason = e.strerror or str(e)
                raise UserError(
                    f"cannot write to --out {self.out}: {reason}; choose a folder you can write"
                ) from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.record["status"] = _status_of(exc)
            self.record["error"] = f"{exc_type.__name__}: {exc}"
            self.write()
        if self.events is not None:
            self.events.close()

    def write(self) -> None:
        if self.primary:
            write_json(self.path, self.record)

    def on_epoch(self, record: dict[str, Any]) -> None:
        self.record["history"].append(record)
        self.write()
        if self.events is not None:
            self.events.epoch(record)

    def refuse_diverged(self, final: dict[str, Any], diverged: dict[str, bool], what: str) -> None:
        """A sweep's verdict: when some members broke the divergence rule, keep `final`
        with them marked (`final["diverged"]`), then raise `DivergedError` naming them (the
        record says diverged; the CLI exits 1)."""
        names = [name for name, bad in diverged.items() if bad]
        final["diverged"] = names
        if names:
            self.record["final"] = final
        history.check_members(diverged, what, "lower the learning rate or leave those out")

    def hparams(
        self, rows: list[dict[str, Any]], params: tuple, metrics: tuple, group: str = ""
    ) -> None:
        """A search's trials (or a claim's seeds) as TensorBoard's hparams table."""
        if self.events is not None:
            self.events.hparams(rows, params, metrics, group)

    def finish(self, final: dict[str, Any], summary: str, **extra: Any) -> dict[str, Any]:
        self.record.update(extra)
        self.record["final"] = final
        self.record["summary"] = summary  # the line printed below, kept for results/
        self.record["status"] = "done"
        self.record["timing"].setdefault("total_s", time.time() - self.started)
        self.write()
        if self.events is not None:
            self.events.final(jsonable({**final, "timing": self.record["timing"]}))
        if self.primary:
            print(f"wrote {self.path}")
            print(summary, flush=True)
        return jsonable(self.record)
