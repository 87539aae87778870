"""Run an experiment as N local processes on JAX's distributed runtime, for trying and testing.

    python -m jaxd2l.tools.launch --num-processes 2 [--cpu-devices-per-process K] \\
        -m experiments.softmax_regression -- --epochs 2 --out DIR

Each process gets `--coordinator 127.0.0.1:PORT --num-processes N --process-id I` (a free
loopback port) and, with --cpu-devices-per-process, `--cpu-devices K`. Output lines are
prefixed with the rank. When a process fails, the launcher stops the others and exits
non-zero within seconds, naming the process; Ctrl-C (or SIGTERM) stops all of them. JAX's
timeouts are shortened for local runs (a missing peer otherwise blocks for 300 s, a dead
one for 100 s).

On a real cluster you do not need this: start one process per host with the same flags
(or `--distributed` under SLURM, Open MPI or on a TPU pod, where JAX finds its peers).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from jaxd2l.checks.numbers import number_type

LOCAL_TIMEOUTS = {"JAXD2L_INIT_TIMEOUT": "30", "JAXD2L_HEARTBEAT_TIMEOUT": "10"}
GRACE_S = 5.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _relay(rank: int, stream, out) -> None:
    for line in iter(stream.readline, ""):
        out.write(f"[{rank}] {line}")
        out.flush()


def _stop(procs: list[subprocess.Popen], sig: int = signal.SIGTERM) -> None:
    """Signal every live process, then kill what is left after a grace period."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and any(p.poll() is None for p in procs):
        time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def launch(
    module: str,
    args: list[str],
    num_processes: int,
    *,
    cpu_devices_per_process: int | None = None,
    out=None,
) -> int:
    """Run `python -m module args...` as `num_processes` ranks; the exit code for the group:
    0 when every process succeeded, else the first failure's code (1 if it was a signal)."""
    out = out or sys.stdout
    port = free_port()
    env = {**os.environ, **LOCAL_TIMEOUTS, "PYTHONUNBUFFERED": "1"}
    procs, relays = [], []
    for rank in range(num_processes):
        cmd = [sys.executable, "-m", module, *args]
        cmd += ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(num_processes)]
        cmd += ["--process-id", str(rank)]
        if cpu_devices_per_process:
            cmd += ["--cpu-devices", str(cpu_devices_per_process)]
        p = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops the group
        )
        procs.append(p)
        out.write(f"[launch] process {rank}: pid {p.pid}\n")
        relay = threading.Thread(target=_relay, args=(rank, p.stdout, out), daemon=True)
        relay.start()
        relays.append(relay)
    out.flush()
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                rank, code = failed[0]
                why = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                out.write(f"[launch] process {rank} {why}: stopping the others\n")
                out.flush()
                _stop(procs)
                return code if code > 0 else 1
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.1)
    except KeyboardInterrupt:
        out.write("[launch] interrupted: stopping every process\n")
        out.flush()
        _stop(procs)
        return 130
    finally:
        for relay in relays:
            relay.join(timeout=1.0)


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rest: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m jaxd2l.tools.launch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--num-processes", type=number_type(int, 1, 1024), required=True, help="processes to start"
    )
    parser.add_argument(
        "--cpu-devices-per-process",
        type=number_type(int, 1, 1024),
        default=None,
        help="CPU devices each process asks for",
    )
    parser.add_argument("-m", dest="module", required=True, help="the experiment module to run")
    ns = parser.parse_args(argv)
    if ns.num_processes < 1:
        parser.error(f"--num-processes must be >= 1, got {ns.num_processes}")
    if ns.cpu_devices_per_process is not None and ns.cpu_devices_per_process < 1:
        parser.error(f"--cpu-devices-per-process must be >= 1, got {ns.cpu_devices_per_process}")
    signal.signal(signal.SIGTERM, _interrupt)
    code = launch(
        ns.module, rest, ns.num_processes, cpu_devices_per_process=ns.cpu_devices_per_process
    )
    raise SystemExit(code)


if __name__ == "__main__":
    main()
