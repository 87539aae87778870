"""Making a bundle, where the package registry is reachable: the wheels jaxd2l needs that a JAX
image lacks (followed through installed metadata for the target Python), the data, the
manifest."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from jaxd2l.checks.errors import UserError
from jaxd2l.checks.files import output_folder
from jaxd2l.tools.bundle.manifest import write_manifest

IMAGE_PACKAGES = (
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "orbax-checkpoint",
    "numpy",
    "pandas",
    "matplotlib",
    "pytest",
    "hypothesis",
)
# The test runner's time limits (pyproject's `timeout`), which the fast suite relies on.
TOOLS = ("pytest-timeout",)
SKIPPED = {
    "pyarrow": "tensorflow-datasets imports it lazily, for Parquet only; the Fashion-MNIST "
    "builder never does (about 45 MB)",
}
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")


def requirement_closure(roots, python_version: str) -> dict[str, str]:
    """{package: installed version} for `roots` and everything they require (extras
    followed), read from the installed packages' metadata with markers evaluated for
    Linux x86_64 and `python_version`."""
    env = {
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    found: dict[str, str] = {}
    extras_seen: dict[str, set] = {}
    stack = [(name, ()) for name in roots]
    while stack:
        name, extras = stack.pop()
        key = canonicalize_name(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise UserError(f"{name} is not installed here: run `make setup` first") from None
        todo = set(extras) - extras_seen.get(key, set())
        if key in found and not todo:
            continue
        found[key] = dist.version
        extras_seen.setdefault(key, set()).update(extras)
        for text in dist.requires or []:
            req = Requirement(text)
            wanted = req.marker is None or any(
                req.marker.evaluate({**env, "extra": extra}) for extra in ("", *extras)
            )
            if wanted:
                stack.append((req.name, tuple(req.extras)))
    return found


def packages_to_bundle(python_version: str) -> dict[str, str]:
    ours = requirement_closure(("jaxd2l", *TOOLS), python_version)
    image = requirement_closure(IMAGE_PACKAGES, python_version)
    return {
        n: v
        for n, v in sorted(ours.items())
        if n not in image and n != "jaxd2l" and n not in SKIPPED
    }


def _fetch_wheel(name: str, version: str, wheels: str, python_version: str, platforms) -> None:
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    platform_flags = [flag for p in platforms for flag in ("--platform", p)]
    cmd = pip + [
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        *platform_flags,
        "-d",
        wheels,
        f"{name}=={version}",
    ]
    if subprocess.run(cmd, capture_output=True, text=True).returncode == 0:
        return
    before = set(os.listdir(wheels))  # no wheel on the index: build one if it is pure Python
    build = subprocess.run(
        pip + ["wheel", "--no-deps", "-w", wheels, f"{name}=={version}"],
        capture_output=True,
        text=True,
    )
    built = set(os.listdir(wheels)) - before
    if build.returncode != 0 or not built or not all(w.endswith("-none-any.whl") for w in built):
        for w in built:
            os.remove(os.path.join(wheels, w))
        raise UserError(
            f"{name}=={version}: no wheel for Python {python_version} on "
            f"{', '.join(platforms)} and no pure-Python build"
        )


def make_bundle(
    out: str,
    *,
    python_version: str = "3.12",
    platforms=PLATFORMS,
    fashion_mnist_dir: str | None = None,
    house_prices_dir: str | None = None,
) -> dict:
    """Write the bundle into `out` (wheels/, data/, manifest.json); returns the manifest."""
    from jaxd2l.data import fashion_mnist_source, house_prices

    output_folder(out, "the bundle's folder", empty=True)
    wheels = os.path.join(out, "wheels")
    os.makedirs(wheels)
    packages = packages_to_bundle(python_version)
    for name, version in packages.items():
        _fetch_wheel(name, version, wheels, python_version, platforms)
    source = fashion_mnist_source.find_source(fashion_mnist_dir)
    files = fashion_mnist_source.local_files(source) if source else None
    if not files:
        raise UserError(
            "no Fashion-MNIST IDX files found: apt-get install "
            "dataset-fashion-mnist, or give --fashion-mnist-dir"
        )
    data = os.path.join(out, "data")
    for kind, paths in (
        ("fashion-mnist", files.values()),
        ("house-prices", house_prices.find_files(house_prices_dir).values()),
    ):
        os.makedirs(os.path.join(data, kind))
        for path in paths:
            shutil.copy(path, os.path.join(data, kind, os.path.basename(path)))
    image = {canonicalize_name(n) for n in IMAGE_PACKAGES}
    requires = [Requirement(r) for r in metadata.requires("jaxd2l") or [] if "extra ==" not in r]
    manifest = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python_version": python_version,
        "platforms": list(platforms),
        "image_packages": list(IMAGE_PACKAGES),
        "image_requires": [str(r) for r in requires if canonicalize_name(r.name) in image],
        "packages": packages,
        "skipped": SKIPPED,
    }
    return write_manifest(out, manifest)
