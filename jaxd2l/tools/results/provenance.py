"""Where a record came from: the command, the commit, the versions, the machine, the date."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess

from jaxd2l.tools.accel_check import ROOT

PACKAGES = ("jax", "jaxlib", "flax", "optax")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(("git", *args), cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux, else what `platform` says)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance(command: str, device: dict | None = None) -> dict:
    """The record's provenance: `command`, git commit and whether the tree was clean,
    Python and package versions, the device (kind, count, platform: from the run's own
    record when given), the CPU model and cores, and the date (UTC)."""
    # clean: no change to the code; the records and README blocks this tool writes do not count
    status = _git(
        "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results", ":!README.md"
    )
    device = device or {}
    return {
        "command": command,
        "commit": _git("rev-parse", "HEAD"),
        "clean": status == "" if status is not None else None,
        "python": platform.python_version(),
        **{p: _version(p) for p in PACKAGES},
        "device_kind": device.get("device_kind"),
        "device_count": device.get("device_count"),
        "platform": device.get("platform"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def line(prov: dict) -> str:
    """One line under a table: command, commit, versions, device, CPU, date."""
    commit = (prov.get("commit") or "unknown")[:10] + ("" if prov.get("clean") else " (dirty)")
    device = f"{prov.get('device_count')} x {prov.get('device_kind')}"
    return (
        f"`{prov['command']}` at {commit}; Python {prov.get('python')}, jax {prov.get('jax')}, "
        f"jaxlib {prov.get('jaxlib')}, flax {prov.get('flax')}, optax {prov.get('optax')}; "
        f"{device}; {prov.get('cpu')}, {prov.get('cores')} cores; {prov.get('date')}"
    )
