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
