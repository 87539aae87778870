"""An offline bundle for an air-gapped accelerator node: the wheels jaxd2l needs that a
typical JAX GPU image lacks, the data, and a manifest of SHA-256s::

    python -m jaxd2l.tools.bundle make --out BUNDLE [--python-version 3.12]
        [--platform manylinux2014_x86_64 ...] [--fashion-mnist-dir DIR] [--house-prices-dir DIR]
    python -m jaxd2l.tools.bundle check BUNDLE
    python -m jaxd2l.tools.bundle install BUNDLE --target DIR     (on the node: no network)

`make` runs where the package registry is reachable. Which wheels: jaxd2l's requirements,
followed through the installed packages' own metadata (markers evaluated for the target
Python), less everything the image's packages (`IMAGE_PACKAGES`) already pull in, less
`SKIPPED`; each fetched with `pip download --no-deps --only-binary=:all:` for the target,
or built locally when only a pure-Python source exists. `install` checks the manifest and
the image's versions first (seconds, naming what is wrong), then `pip install --no-index
--no-deps --target DIR`, and writes DIR/jaxd2l_env.sh pointing Python and jaxd2l at it.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from jaxd2l.core.errors import UserError

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
MANIFEST = "manifest.json"


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


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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

    if os.path.exists(out) and os.listdir(out):
        raise UserError(f"{out} is not empty: give a new folder for the bundle")
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


def write_manifest(out: str, manifest: dict) -> dict:
    """Add every file under `out` with its SHA-256 and size to `manifest`, write it as
    out/manifest.json, and return it."""
    manifest = {**manifest, "files": {}}
    for folder, _, names in sorted(os.walk(out)):
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, out)
            if rel != MANIFEST:
                manifest["files"][rel] = {"sha256": sha256(path), "bytes": os.path.getsize(path)}
    manifest["total_bytes"] = sum(f["bytes"] for f in manifest["files"].values())
    with open(os.path.join(out, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def check_bundle(bundle: str) -> dict:
    """The manifest, after checking every file it lists is there with its SHA-256."""
    path = os.path.join(bundle, MANIFEST)
    if not os.path.isfile(path):
        raise UserError(f"{bundle}: no {MANIFEST}; is this a bundle made by `make bundle`?")
    with open(path) as f:
        manifest = json.load(f)
    problems = []
    for rel, want in manifest["files"].items():
        file = os.path.join(bundle, rel)
        if not os.path.isfile(file):
            problems.append(f"{rel} is missing")
        elif sha256(file) != want["sha256"]:
            problems.append(f"{rel} is damaged (SHA-256 differs from the manifest)")
    if problems:
        raise UserError(f"{bundle}: " + "; ".join(problems) + ": copy the bundle again")
    return manifest


def check_image(manifest: dict) -> None:
    """The running Python and the image's packages are what the bundle was made for."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    problems = []
    if here != manifest["python_version"]:
        problems.append(
            f"the bundle is for Python {manifest['python_version']}, this is "
            f"{here} (make it with --python-version {here})"
        )
    for text in manifest["image_requires"]:
        req = Requirement(text)
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{req.name} is not installed (the image should have it)")
            continue
        if not req.specifier.contains(version, prereleases=True):
            problems.append(
                f"{req.name} {version} is too old or too new: jaxd2l needs "
                f"{req.name}{req.specifier}"
            )
    if problems:
        raise UserError("; ".join(problems))


def install(bundle: str, target: str) -> str:
    """Check, install the wheels into `target` with no network, write target/jaxd2l_env.sh."""
    manifest = check_bundle(bundle)
    check_image(manifest)
    wheels = sorted(
        os.path.join(bundle, rel) for rel in manifest["files"] if rel.startswith("wheels" + os.sep)
    )
    os.makedirs(target, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "-q",
            "install",
            "--no-index",
            "--no-deps",
            "--target",
            target,
            *wheels,
        ],
        check=True,
        env=env,
    )
    data = os.path.abspath(os.path.join(bundle, "data"))
    script = os.path.join(target, "jaxd2l_env.sh")
    with open(script, "w") as f:
        f.write(
            f"# source this file: jaxd2l's packages and data from {os.path.abspath(bundle)}\n"
            f'export PYTHONPATH="{os.path.abspath(target)}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
            f'export JAXD2L_FASHION_MNIST_DIR="{data}/fashion-mnist"\n'
            f'export JAXD2L_HOUSE_PRICES_DIR="{data}/house-prices"\n'
            "export PIP_NO_INDEX=1\n"
        )
    return script


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jaxd2l.tools.bundle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make", help="write a bundle (needs the package registry)")
    make.add_argument("--out", required=True)
    make.add_argument("--python-version", default="3.12")
    make.add_argument("--platform", action="append", dest="platforms")
    make.add_argument("--fashion-mnist-dir")
    make.add_argument("--house-prices-dir")
    check = sub.add_parser("check", help="check a bundle's files against its manifest")
    check.add_argument("bundle")
    inst = sub.add_parser("install", help="install a bundle's wheels, offline")
    inst.add_argument("bundle")
    inst.add_argument("--target", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "make":
            m = make_bundle(
                args.out,
                python_version=args.python_version,
                platforms=tuple(args.platforms or PLATFORMS),
                fashion_mnist_dir=args.fashion_mnist_dir,
                house_prices_dir=args.house_prices_dir,
            )
            for rel, f in m["files"].items():
                print(f"{f['bytes'] / 2**20:8.2f} MiB  {rel}")
            print(
                f"{args.out}: {len(m['files'])} files, {m['total_bytes'] / 2**20:.1f} MiB; "
                f"skipped: {', '.join(m['skipped'])}"
            )
        elif args.command == "check":
            m = check_bundle(args.bundle)
            print(f"{args.bundle}: {len(m['files'])} files match the manifest")
        else:
            script = install(args.bundle, args.target)
            print(f"installed; now: source {script}")
    except UserError as e:
        print(f"python -m jaxd2l.tools.bundle: error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(f"python -m jaxd2l.tools.bundle: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
