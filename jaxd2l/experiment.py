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
import sys
import time
import types
import typing
from collections.abc import Callable
from typing import Any

import jax

from jaxd2l.data.fashion_mnist import cache_home
from jaxd2l.errors import FlagError, UserError


def flag(default: Any, help: str, **checks: Any) -> Any:
    """A Config field with help text and checks: `min` (>=), `gt` (>), `choices`."""
    return dataclasses.field(default=default, metadata={"help": help, **checks})


def check_config(config: Any) -> None:
    """Raise FlagError (a ValueError) naming the flag (`--batch-size must be >= 1, got 0`)."""
    for f in dataclasses.fields(config):
        value, meta, name = getattr(config, f.name), f.metadata, "--" + f.name.replace("_", "-")
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if v is None:
                continue
            if "min" in meta and not v >= meta["min"]:
                raise FlagError(f"{name} must be >= {meta['min']}, got {v}")
            if "gt" in meta and not v > meta["gt"]:
                raise FlagError(f"{name} must be > {meta['gt']}, got {v}")
            if "choices" in meta and v not in meta["choices"]:
                raise FlagError(f"{name} must be one of {', '.join(map(str, meta['choices']))}")
        if isinstance(value, tuple) and not value and not meta.get("empty_ok", False):
            raise FlagError(f"{name} needs at least one value")


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
    for f in dataclasses.fields(config_cls):
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


def run_cli(main: Callable[[Any], dict], config_cls: type, argv: list[str] | None = None) -> None:
    """Parse flags, set up the compilation cache, run `main`. A bad flag exits 2 and other
    user errors (missing data, corrupt files) exit 1, each with one line, no traceback."""
    module = sys.modules.get(main.__module__)
    spec = getattr(module, "__spec__", None)
    prog = f"python -m {spec.name}" if spec is not None else None
    config = parse_config(config_cls, argv, getattr(module, "__doc__", None), prog)
    enable_compilation_cache()
    try:
        main(config)
    except FlagError as e:
        print(f"{prog or 'error'}: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def device_info() -> dict[str, Any]:
    d = jax.devices()[0]
    return {
        "platform": d.platform,
        "device_kind": d.device_kind,
        "device_count": jax.device_count(),
        "jax_version": jax.__version__,
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


class Run:
    """metrics.json for one run, rewritten after every epoch so a failure keeps what it had.

    Use as a context manager: an exception marks the record `failed` with the error and
    re-raises. `finish` writes the final figures and prints the summary line.
    """

    def __init__(self, experiment: str, config: Any, impl: str | None = None):
        self.out = output_dir(config, experiment, impl)
        self.path = os.path.join(self.out, "metrics.json")
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
        os.makedirs(self.out, exist_ok=True)
        self.write()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.record["status"] = "failed"
            self.record["error"] = f"{exc_type.__name__}: {exc}"
            self.write()

    def write(self) -> None:
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
        print(f"wrote {self.path}")
        print(summary, flush=True)
        return jsonable(self.record)
