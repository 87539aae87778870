"""Typed flags from a frozen Config dataclass, checked once, with one-line errors.

An experiment's `Config` subclasses `ExperimentConfig` (the `out` every experiment has),
plus `SeedFlags` (a root seed), `DataFlags` (Fashion-MNIST's folder) and `TrainingFlags`
(a seed, devices, checkpoints, processes) where it uses them. Fields are declared with
`flag(default, help, **checks)`; the base `__post_init__` checks every field once, then
calls `check()` for rules across fields. A bad value is a `FlagError` naming the flag.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from jaxd2l.checks import numbers
from jaxd2l.checks.errors import UserError


class FlagError(UserError, ValueError):
    """A bad Config / flag value, named as its flag (`--batch-size must be >= 1, got 0`);
    found while parsing, or later once the data shows it (the CLI exits 2 either way)."""


def flag(default: Any, help: str, **checks: Any) -> Any:
    """A Config field with help text and checks: `min` (>=), `max` (<=), `gt` (>), `lt` (<),
    `choices`, `empty_ok` (for a tuple), `repeats` (a tuple that may hold a value twice, such
    as layer widths; otherwise each value names one member of a sweep). Float values must
    also be finite. Every integer flag states its `max` (a test checks it): a count a user
    controls is bounded before anything is allocated (10**5 for epochs: a history grows).

    `needs=(partners, acts)` marks a flag that acts only with other flags: `acts(config)`
    says whether it does, `partners` names them ("--method random, bayes or compare").
    Given on the command line where it would do nothing, it is refused in one line naming
    both (`check_partners`)."""
    return dataclasses.field(default=default, metadata={"help": help, **checks})


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """What every experiment has: its output folder."""

    out: str | None = flag(None, "output folder (None: runs/<experiment>[/<impl>])")

    def __post_init__(self):
        check_config(self)
        self.check()

    def check(self) -> None:
        """Rules across flags, for a Config to add (raise FlagError)."""


@dataclasses.dataclass(frozen=True)
class SeedFlags(ExperimentConfig):
    """The root seed of an experiment that draws random numbers (`jaxd2l.core.keys.run_keys`)."""

    seed: int = flag(0, "root PRNG seed", min=-(2**63), max=2**63 - 1)


@dataclasses.dataclass(frozen=True)
class DataFlags(ExperimentConfig):
    """Where Fashion-MNIST is read from."""

    data_dir: str | None = flag(None, "folder with the four Fashion-MNIST IDX files")


@dataclasses.dataclass(frozen=True)
class TrainingFlags(SeedFlags):
    """Flags every training experiment shares, defined once (they come last in --help)."""

    devices: int | None = flag(
        None, "devices to train on, data parallel (default: every device JAX sees)", min=1, max=4096
    )
    cpu_devices: int | None = flag(
        None, "ask JAX for this many CPU devices, to try --devices on a CPU", min=1, max=256
    )
    checkpoint_dir: str | None = flag(None, "save the run here after every epoch (orbax)")
    resume: bool = flag(False, "continue the run saved in --checkpoint-dir")
    coordinator: str | None = flag(None, "multi-process: HOST:PORT of process 0")
    num_processes: int | None = flag(None, "multi-process: how many processes", min=1, max=1024)
    process_id: int | None = flag(
        None, "multi-process: this process's rank, from 0", min=0, max=1023
    )
    distributed: bool = flag(
        False, "multi-process: let JAX find the cluster (SLURM, Open MPI, TPU pods)"
    )
    stop_on_divergence: bool = flag(
        True,
        "stop (status diverged, exit 1) once the training loss is not finite or above "
        "100x the untrained model's (jaxd2l.core.history)",
    )

    def check(self) -> None:
        if self.resume and not self.checkpoint_dir:
            raise FlagError("--resume needs --checkpoint-dir (the folder the run was saved in)")
        explicit = (self.coordinator, self.num_processes, self.process_id)
        if any(v is not None for v in explicit) and any(v is None for v in explicit):
            raise FlagError(
                "--coordinator, --num-processes and --process-id go together (or use --distributed)"
            )
        if self.num_processes is not None and self.process_id >= self.num_processes:
            raise FlagError(
                f"--process-id must be < --num-processes {self.num_processes}, "
                f"got {self.process_id}"
            )
        if self.coordinator is not None:
            host, _, port = self.coordinator.rpartition(":")
            if not host:
                raise FlagError(f"--coordinator must be HOST:PORT, got {self.coordinator!r}")
            try:
                numbers.read_number(port, int, "--coordinator's port", 1, 65535)
            except ValueError as e:
                raise FlagError(f"{e} (--coordinator is HOST:PORT)") from None
        if self.distributed and self.coordinator is not None:
            raise FlagError("--distributed finds the cluster itself: drop --coordinator")

    def refuse_fit_flags(self, why: str) -> None:
        """For a mode that trains nothing through the shared runner: refuse, by name, the
        flags that act on such training (they would do nothing)."""
        for name in ("checkpoint_dir", "resume", "devices", "stop_on_divergence"):
            field = next(f for f in dataclasses.fields(TrainingFlags) if f.name == name)
            if getattr(self, name) != field.default:
                raise FlagError(f"{flag_name(name)} acts on training: {why}")


# Flags that say where or how a run executes, not what it computes: a resumed run may
# change them (a new launch gets a new coordinator port). `epochs` says how far: a run
# resumed with more extends (5 epochs then 5 more equal 10); the run's own identity is
# derived from its program and data by the checkpoint (`core.arguments.run_identity`).
NOT_RUN_IDENTITY = frozenset(
    {"out", "checkpoint_dir", "resume", "coordinator", "process_id", "distributed"}
    | {"cpu_devices", "devices", "data_dir", "epochs"}
)
# --help lists an experiment's own flags first, then seed/out/data, then the training flags.
_COMMON = {f.name for cls in (SeedFlags, DataFlags) for f in dataclasses.fields(cls)}
_TRAINING = {f.name for f in dataclasses.fields(TrainingFlags)} - _COMMON


def help_order(field: dataclasses.Field) -> int:
    return 2 if field.name in _TRAINING else 1 if field.name in _COMMON else 0


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def check_config(config: Any) -> None:
    """Raise FlagError (a ValueError) naming the flag (`--batch-size must be >= 1, got 0`)."""
    for f in dataclasses.fields(config):
        value, meta, name = getattr(config, f.name), f.metadata, flag_name(f.name)
        if isinstance(value, str) and not value.strip():
            raise FlagError(f"{name} is empty: give a value, or leave the flag out")
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if v is None:
                continue
            if isinstance(v, float) and not math.isfinite(v):
                raise FlagError(f"{name} must be a finite number, got {v}")
            if "min" in meta and not v >= meta["min"]:
                raise FlagError(f"{name} must be >= {meta['min']}, got {v}")
            if "max" in meta and not v <= meta["max"]:
                raise FlagError(f"{name} must be <= {meta['max']}, got {v}")
            if "gt" in meta and not v > meta["gt"]:
                raise FlagError(f"{name} must be > {meta['gt']}, got {v}")
            if "lt" in meta and not v < meta["lt"]:
                raise FlagError(f"{name} must be < {meta['lt']}, got {v}")
            if "choices" in meta and v not in meta["choices"]:
                raise FlagError(f"{name} must be one of {', '.join(map(str, meta['choices']))}")
        if isinstance(value, tuple) and not value and not meta.get("empty_ok", False):
            raise FlagError(f"{name} needs at least one value")
        if isinstance(value, tuple) and len(set(value)) < len(value) and not meta.get("repeats"):
            twice = ", ".join(sorted({str(v) for v in value if value.count(v) > 1}))
            raise FlagError(f"{name} holds {twice} more than once: give each value once")


def when(field: str, *values: Any) -> tuple[str, Any]:
    """`needs=` for a flag that acts only when `field` is one of `values` (or, for a list
    flag, holds one of them): `when("method", "random", "bayes")`."""
    said = ", ".join(map(str, values[:-1])) + " or " if len(values) > 1 else ""
    partners = f"{flag_name(field)} {said}{values[-1]}"

    def acts(config: Any) -> bool:
        value = getattr(config, field)
        held = value if isinstance(value, tuple) else (value,)
        return any(v in values for v in held)

    return partners, acts
