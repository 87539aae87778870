"""The command line runner: parse flags, start the backend, run `main`, one-line errors.

Every `experiments.NAME` module ends with `run_cli(main, Config)`. A bad flag exits 2; other
user errors (missing data, corrupt files, an unwritable --out, a diverged run) exit 1, each
with one line, no traceback; Ctrl-C or SIGTERM exits 130 saying how to resume.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import jax

from jaxd2l.checks.errors import UserError
from jaxd2l.checks.numbers import env_number
from jaxd2l.cli.flags import FlagError
from jaxd2l.cli.parse import in_flags, parse_config
from jaxd2l.core.history import DivergedError
from jaxd2l.data.cache import cache_home


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
        # Local launches set short timeouts (jaxd2l.tools.launch); JAX's defaults are minutes.
        timeouts = {
            "initialization_timeout": env_number("JAXD2L_INIT_TIMEOUT", 300, int, 1, 86400),
            "heartbeat_timeout_seconds": env_number("JAXD2L_HEARTBEAT_TIMEOUT", 100, int, 1, 86400),
        }
        if config.coordinator:
            missing = (
                f"the other {config.num_processes - 1} process(es)"
                if config.process_id == 0
                else "process 0 (the coordinator)"
            )
            with _watchdog(timeouts["initialization_timeout"], config.coordinator, missing):
                jax.distributed.initialize(
                    config.coordinator, config.num_processes, config.process_id, **timeouts
                )
            return
        try:
            with _watchdog(timeouts["initialization_timeout"], "the cluster", "its peers"):
                jax.distributed.initialize(**timeouts)
        except ValueError as e:  # JAX found no cluster environment to read
            raise FlagError(
                f"--distributed found no cluster to join ({e}): run under SLURM, Open MPI or "
                "a TPU pod, or start each process with --coordinator HOST:PORT "
                "--num-processes N --process-id I"
            ) from None


@contextlib.contextmanager
def _watchdog(timeout: float, where: str, missing: str):
    """Exit with one line when joining the distributed runtime outlasts its timeout: JAX
    aborts the process (a C++ fatal error, exit 134) when a peer never comes."""
    done = threading.Event()

    def watch():
        if not done.wait(max(timeout - 0.5, 0.5)):
            print(
                f"error: {missing} never joined {where} within {timeout:g} s: start every "
                "process with the same --coordinator and --num-processes "
                "(JAXD2L_INIT_TIMEOUT sets the wait)",
                file=sys.stderr,
                flush=True,
            )
            os._exit(1)  # the runtime is stuck in C++: nothing else can stop it cleanly

    threading.Thread(target=watch, name="jaxd2l-init-watchdog", daemon=True).start()
    try:
        yield
    finally:
        done.set()


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops, keeps what it saved and says so."""


def _raise_terminated(signum, frame):
    raise Terminated()


CLOSED_LOOP = "Event loop is closed"


def _quiet_closed_loop(previous: Callable) -> Callable:
    """An unraisable-exception hook that drops one known noise, passing the rest on: when
    a checkpoint step is damaged, orbax's async reader can leave asyncio objects whose
    `__del__` runs after their event loop closed (at exit), which prints `RuntimeError:
    Event loop is closed` tracebacks for a run that succeeded."""

    if getattr(previous, "quiet_closed_loop", False):
        return previous  # installed already (run_cli called again in one process)

    def hook(unraisable) -> None:
        exc = unraisable.exc_value
        if isinstance(exc, RuntimeError) and str(exc) == CLOSED_LOOP:
            return
        previous(unraisable)

    hook.quiet_closed_loop = True
    return hook


def run_cli(main: Callable[[Any], dict], config_cls: type, argv: list[str] | None = None) -> None:
    """Parse flags, start the backend, set up the compilation cache, run `main`."""
    module = sys.modules.get(main.__module__)
    spec = getattr(module, "__spec__", None)
    prog = f"python -m {spec.name}" if spec is not None else None
    config = parse_config(config_cls, argv, getattr(module, "__doc__", None), prog)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    sys.unraisablehook = _quiet_closed_loop(sys.unraisablehook)
    threading.excepthook = _quiet_closed_loop(threading.excepthook)
    try:
        start_backend(config)
        enable_compilation_cache()
        main(config)
    except FlagError as e:
        print(f"{prog or 'error'}: error: {in_flags(str(e), config_cls)}", file=sys.stderr)
        raise SystemExit(2) from None
    except UserError as e:
        print(f"error: {in_flags(_with_flag(e, config), config_cls)}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print(f"interrupted: {_resume_hint(config)}", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if jax.distributed.is_initialized():
        jax.distributed.shutdown()


def _with_flag(error: UserError, config: Any) -> str:
    """A divergence told with the flag to change: "lower the learning rate (--lr, now 5)"."""
    said, lr = str(error), getattr(config, "lr", None)
    if isinstance(error, DivergedError) and isinstance(lr, float) and "--lr" not in said:
        said = re.sub(r"lower the learning rate\b(?!s)", rf"\g<0> (--lr, now {lr:g})", said)
    return said


def _resume_hint(config: Any) -> str:
    folder = getattr(config, "checkpoint_dir", None)
    if folder:
        return (
            f"every finished epoch is saved in {folder}; rerun the same command with --resume "
            "to continue"
        )
    return "metrics.json keeps the finished epochs (--checkpoint-dir DIR makes a run resumable)"
