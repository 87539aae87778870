"""One command for a node with an accelerator: what JAX sees, the fast test suite on it, and
the benchmark sections that matter there, everything written into one folder::

    python -m jaxd2l.tools.accel_check --out DIR [--size auto|gpu|cpu] [--skip-tests]
        [--skip-benchmark] [--test-timeout 420] [--bench-timeout 480]

Steps, each recorded even when a later one fails:

1. devices.json: platform, devices, versions of Python, jax, jaxlib, flax, optax, orbax,
   numpy, and the environment variables that steer JAX;
2. the fast suite (`pytest -m "not slow"`) on the default device, the tests' numbers
   compared at `highest` matmul precision (tests/conftest.py), log in tests.log;
3. the benchmark (`experiments.benchmark`) into DIR/bench: limits, models up to batch
   16384, drivers (incl. the whole run as one program), precision (bf16), trials up to
   256, devices; `--size cpu` (the default on a CPU) shrinks it to try the path in minutes;
4. accel_check.json: each step's status, seconds and exit code; then the exit code: 0
   when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from importlib import metadata

from jaxd2l.checks import files
from jaxd2l.checks.errors import UserError
from jaxd2l.checks.numbers import number_type

# the repository root (jaxd2l/tools/accel_check.py is three levels below it)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = (
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "orbax-checkpoint",
    "numpy",
    "tensorflow-datasets",
    "optuna",
)
# Benchmark plans: sized for < 8 minutes on one modern GPU, or a few minutes on 2 CPU cores.
BENCH = {
    "gpu": [
        "--sections",
        "limits,models,drivers,precision,trials,devices",
        "--models",
        "softmax,mlp,deep_mlp",
        "--batch-sizes",
        "256,1024,4096,8192,16384",
        "--trials",
        "1,4,16,64,256",
        "--repeats",
        "3",
        "--epochs",
        "2",
    ],
    "cpu": [
        "--sections",
        "limits,models,drivers,precision,trials,devices",
        "--models",
        "softmax,mlp",
        "--batch-sizes",
        "256,4096",
        "--trials",
        "1,8",
        "--repeats",
        "1",
        "--epochs",
        "1",
    ],
}


def devices_report() -> dict:
    import jax

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "platform": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "device_kind": jax.devices()[0].device_kind,
        "process_count": jax.process_count(),
        "python": platform.python_version(),
        "versions": versions,
        "environment": {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("JAX", "XLA", "JAXD2L", "CUDA", "TPU"))
        },
    }


def _step(name: str, cmd: list[str], log: str, timeout: float, env=None) -> dict:
    print(f"== {name}: {' '.join(cmd)} (log: {log})", flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        try:
            code = subprocess.run(
                cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, timeout=timeout, env=env
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    seconds = time.perf_counter() - t0
    with open(log) as f:
        tail = f.read().splitlines()[-3:]
    status = "passed" if code == 0 else "failed"
    print(f"   {status} in {seconds:.0f} s (exit {code}): {' | '.join(tail)}", flush=True)
    return {"status": status, "exit": code, "seconds": seconds, "log": log, "tail": tail}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jaxd2l.tools.accel_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="folder for everything the check writes")
    parser.add_argument(
        "--size",
        choices=("auto", "gpu", "cpu"),
        default="auto",
        help="benchmark plan (auto: cpu on a CPU, gpu otherwise)",
    )
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--skip-benchmark", action="store_true")
    parser.add_argument("--test-timeout", type=number_type(float, 1, 86400), default=420)
    parser.add_argument("--bench-timeout", type=number_type(float, 1, 86400), default=480)
    args = parser.parse_args(argv)
    try:
        out = files.output_folder(args.out, "--out")
    except UserError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")  # one line: the usage is not the problem
    summary: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "steps": {}}

    def write() -> None:
        files.write_json(os.path.join(out, "accel_check.json"), summary, indent=1)

    try:
        report = devices_report()
    except Exception as e:  # no backend at all: say so, write it, stop
        summary["steps"]["devices"] = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
        write()
        print(
            f"python -m jaxd2l.tools.accel_check: error: JAX found no device: {e}", file=sys.stderr
        )
        return 1
    summary["steps"]["devices"] = {"status": "passed"}
    files.write_json(os.path.join(out, "devices.json"), report, indent=1)
    print(f"== devices: {report['platform']} {report['devices']}", flush=True)
    print(f"   versions: {report['versions']}", flush=True)
    write()
    from jaxd2l.tools import portability  # every experiment program exported for cuda/tpu

    rows = portability.export_report()
    files.write_json(os.path.join(out, "portability.json"), rows, indent=1)
    ok = portability.portable(rows)
    summary["steps"]["portability"] = {"status": "passed" if ok else "failed"}
    print(f"== portability: {len(rows)} programs exported, {'all' if ok else 'NOT all'} portable")
    write()
    env = {**os.environ, "JAX_DEFAULT_MATMUL_PRECISION": "highest"}
    if not args.skip_tests:
        tests = os.path.join(ROOT, "tests")
        if not os.path.isdir(tests):
            summary["steps"]["tests"] = {
                "status": "failed",
                "error": f"no tests folder at {tests}: run from a clone",
            }
        else:
            summary["steps"]["tests"] = _step(
                "fast test suite",
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-m",
                    "not slow",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "tests",
                ],
                os.path.join(out, "tests.log"),
                args.test_timeout,
                env,
            )
        write()
    if not args.skip_benchmark:
        size = (
            args.size if args.size != "auto" else ("cpu" if report["platform"] == "cpu" else "gpu")
        )
        summary["bench_size"] = size
        cmd = [
            sys.executable,
            "-m",
            "experiments.benchmark",
            *BENCH[size],
            "--no-torch",
            "--out",
            os.path.join(out, "bench"),
        ]
        summary["steps"]["benchmark"] = _step(
            "benchmark", cmd, os.path.join(out, "bench.log"), args.bench_timeout
        )
        write()
    failed = [name for name, step in summary["steps"].items() if step["status"] != "passed"]
    summary["status"] = "failed" if failed else "passed"
    write()
    print(
        f"accel_check {summary['status']}"
        + (f" ({', '.join(failed)})" if failed else "")
        + f": {out}",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
