"""The experiment contract: typed flags from a frozen Config dataclass, metrics.json, devices.

Every `experiments.NAME` module has a `Config`, a `main(config) -> dict` and ends with
`run_cli(main, Config)`. Flags and their checks come from the dataclass fields; a bad
value exits with status 2 and one line naming the flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import time
import types
import typing
from collections.abc import Callable
from typing import Any

import jax

from jaxd2l.checkpoint import Checkpointer
from jaxd2l.data.fashion_mnist import cache_home
from jaxd2l.errors import FlagError, UserError
from jaxd2l.loop import DivergedError
from jaxd2l.parallel import DataParallel, make_mesh


def flag(default: Any, help: str, **checks: Any) -> Any:
    """A Config field with help text and checks: `min` (>=), `max` (<=), `gt` (>), `choices`.
    Float values must also be finite."""
    return dataclasses.field(default=default, metadata={"help": help, **checks})


def seed_flag(help: str = "root PRNG seed") -> Any:
    """A seed: any integer `jax.random.key` accepts (a signed 64-bit integer)."""
    return flag(0, help, min=-(2**63), max=2**63 - 1)


@dataclasses.dataclass(frozen=True)
class TrainingFlags:
    """Flags every training experiment shares, defined once: an experiment's Config
    inherits them (they come last in --help)."""

    devices: int | None = flag(
        None, "devices to train on, data parallel (default: every device JAX sees)", min=1
    )
    cpu_devices: int | None = flag(
        None, "ask JAX for this many CPU devices, to try --devices on a CPU", min=1
    )
    checkpoint_dir: str | None = flag(None, "save the run here after every epoch (orbax)")
    resume: bool = flag(False, "continue the run saved in --checkpoint-dir")
    coordinator: str | None = flag(None, "multi-process: HOST:PORT of process 0")
    num_processes: int | None = flag(None, "multi-process: how many processes", min=1)
    process_id: int | None = flag(None, "multi-process: this process's rank, from 0", min=0)
    distributed: bool = flag(
        False, "multi-process: let JAX find the cluster (SLURM, Open MPI, TPU pods)"
    )


# Flags that say where or how a run executes, not what it computes: a resumed run may
# change them (a new launch gets a new coordinator port).
_NOT_RUN_IDENTITY = {"out", "checkpoint_dir", "resume", "coordinator", "process_id"}
_NOT_RUN_IDENTITY |= {"distributed", "cpu_devices", "devices", "data_dir"}


def _check_training_flags(config: TrainingFlags) -> None:
    if config.resume and not config.checkpoint_dir:
        raise FlagError("--resume needs --checkpoint-dir (the folder the run was saved in)")
    explicit = (config.coordinator, config.num_processes, config.process_id)
    if any(v is not None for v in explicit) and any(v is None for v in explicit):
        raise FlagError(
            "--coordinator, --num-processes and --process-id go together (or use --distributed)"
        )
    if config.num_processes is not None and config.process_id >= config.num_processes:
        raise FlagError(
            f"--process-id must be < --num-processes {config.num_processes}, "
            f"got {config.process_id}"
        )
    if config.coordinator is not None:
        host, _, port = config.coordinator.rpartition(":")
        if not host or not port.isdigit():
            raise FlagError(f"--coordinator must be HOST:PORT, got {config.coordinator!r}")


def check_config(config: Any) -> None:
    """Raise FlagError (a ValueError) naming the flag (`--batch-size must be >= 1, got 0`)."""
    for f in dataclasses.fields(config):
        value, meta, name = getattr(config, f.name), f.metadata, "--" + f.name.replace("_", "-")
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
            if "choices" in meta and v not in meta["choices"]:
                raise FlagError(f"{name} must be one of {', '.join(map(str, meta['choices']))}")
        if isinstance(value, tuple) and not value and not meta.get("empty_ok", False):
            raise FlagError(f"{name} needs at least one value")
    if isinstance(config, TrainingFlags):
        _check_training_flags(config)


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parse_list(item_type):
    def parse(text: str) -> tuple:
        try:
            return tuple(item_type(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a comma list of {item_type.__name__}, got {text!r}"
            ) from None

    return parse


def build_parser(
    config_cls: type, description: str | None, prog: str | None = None
) -> argparse.ArgumentParser:
    """An argparse parser with one typed flag per Config field."""
    parser = _OneLineParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    hints = typing.get_type_hints(config_cls)
    shared = {f.name for f in dataclasses.fields(TrainingFlags)}
    fields = sorted(dataclasses.fields(config_cls), key=lambda f: f.name in shared)
    for f in fields:
        kind, help_text = hints[f.name], f.metadata.get("help", "")
        args = typing.get_args(kind)
        if typing.get_origin(kind) in (typing.Union, types.UnionType):  # X | None
            kind = next(a for a in args if a is not type(None))
            args = typing.get_args(kind)
        opts: dict[str, Any] = {"default": f.default, "help": f"{help_text} (default: %(default)s)"}
        if kind is bool:
            opts["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is tuple:
            opts["type"] = _parse_list(args[0])
            opts["metavar"] = "A,B,..."
        else:
            opts["type"] = kind
            if "choices" in f.metadata:
                opts["choices"] = f.metadata["choices"]
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, **opts)
    return parser


def parse_config(
    config_cls: type,
    argv: list[str] | None = None,
    description: str | None = None,
    prog: str | None = None,
):
    parser = build_parser(config_cls, description, prog)
    namespace = parser.parse_args(argv)
    try:
        return config_cls(**vars(namespace))
    except ValueError as e:
        parser.error(str(e))


def enable_compilation_cache(path: str | None = None) -> None:
    """JAX's persistent compilation cache, for every compile (entry points only)."""
    path = path or os.environ.get("JAXD2L_JAX_CACHE") or os.path.join(cache_home(), "jax-cache")
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def start_backend(config: Any) -> None:
    """Before anything touches a device: the number of CPU devices and, for multi-process
    runs, `jax.distributed.initialize` (explicit flags, or JAX's cluster detection)."""
    if getattr(config, "cpu_devices", None):
        jax.config.update("jax_num_cpu_devices", config.cpu_devices)
    if getattr(config, "coordinator", None) or getattr(config, "distributed", False):
        # Local launches set short timeouts (jaxd2l.launch); JAX's defaults are minutes.
        timeouts = {
            "initialization_timeout": int(os.environ.get("JAXD2L_INIT_TIMEOUT", 300)),
            "heartbeat_timeout_seconds": int(os.environ.get("JAXD2L_HEARTBEAT_TIMEOUT", 100)),
        }
        if config.coordinator:
            jax.distributed.initialize(
                config.coordinator, config.num_processes, config.process_id, **timeouts
            )
        else:
            jax.distributed.initialize(**timeouts)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops, keeps what it saved and says so."""


def _raise_terminated(signum, frame):
    raise Terminated()


def run_cli(main: Callable[[Any], dict], config_cls: type, argv: list[str] | None = None) -> None:
    """Parse flags, start the backend, set up the compilation cache, run `main`. A bad flag
    exits 2; other user errors (missing data, corrupt files, an unwritable --out, a diverged
    run) exit 1, each with one line, no traceback; Ctrl-C or SIGTERM exits 130 saying how
    to resume."""
    module = sys.modules.get(main.__module__)
    spec = getattr(module, "__spec__", None)
    prog = f"python -m {spec.name}" if spec is not None else None
    config = parse_config(config_cls, argv, getattr(module, "__doc__", None), prog)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        start_backend(config)
        enable_compilation_cache()
        main(config)
    except FlagError as e:
        print(f"{prog or 'error'}: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print(f"interrupted: {_resume_hint(config)}", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if jax.distributed.is_initialized():
        jax.distributed.shutdown()


def _resume_hint(config: Any) -> str:
    folder = getattr(config, "checkpoint_dir", None)
    if folder:
        return (
            f"every finished epoch is saved in {folder}; rerun the same command with --resume "
            "to continue"
        )
    return "metrics.json keeps the finished epochs (--checkpoint-dir DIR makes a run resumable)"


def training_setup(config: TrainingFlags):
    """(parallel, checkpointer) for a training experiment from the shared flags.

    parallel is None on one device in one process (the chapters' path, unchanged), else a
    `DataParallel` over `--devices`. The checkpointer (None without --checkpoint-dir)
    identifies the run by its flags plus the number of devices."""
    try:
        mesh = make_mesh(config.devices) if config.devices or jax.device_count() > 1 else None
    except ValueError as e:
        raise FlagError(f"--devices: {e}") from None
    parallel = DataParallel(mesh) if mesh is not None and mesh.size > 1 else None
    batch_size = getattr(config, "batch_size", None)
    if parallel is not None and batch_size is not None:
        try:
            parallel.check_batch_size(batch_size, "--batch-size")
        except ValueError as e:
            raise FlagError(str(e)) from None
    checkpointer = None
    if config.checkpoint_dir:
        flags = dataclasses.asdict(config)
        identity = {k: v for k, v in flags.items() if k not in _NOT_RUN_IDENTITY}
        identity["devices"] = parallel.num_devices if parallel is not None else 1
        checkpointer = Checkpointer(config.checkpoint_dir, flags=identity, resume=config.resume)
    return parallel, checkpointer


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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(jsonable(payload), fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


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

    def file(self, name: str) -> str:
        return os.path.join(self.out, name)

    def __enter__(self) -> Run:
        if self.primary:
            try:
                if os.path.exists(self.out) and not os.path.isdir(self.out):
                    raise NotADirectoryError("it is a file, not a folder")
                os.makedirs(self.out, exist_ok=True)
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

    def write(self) -> None:
        if self.primary:
            write_json(self.path, self.record)

    def on_epoch(self, record: dict[str, Any]) -> None:
        self.record["history"].append(record)
        self.write()

    def finish(self, final: dict[str, Any], summary: str, **extra: Any) -> dict[str, Any]:
        self.record.update(extra)
        self.record["final"] = final
        self.record["status"] = "done"
        self.record["timing"].setdefault("total_s", time.time() - self.started)
        self.write()
        if self.primary:
            print(f"wrote {self.path}")
            print(summary, flush=True)
        return jsonable(self.record)
