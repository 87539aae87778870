"""Installing a bundle on the node, with no network: check the manifest and the image first
(seconds, one line per problem), then pip from the bundle's wheels alone."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

from jaxd2l.checks import files
from jaxd2l.checks.errors import UserError
from jaxd2l.tools.bundle.manifest import check_bundle


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
    files.output_folder(target, "target")  # made only once the bundle is known whole
    wheels = sorted(
        os.path.join(bundle, rel) for rel in manifest["files"] if rel.startswith("wheels" + os.sep)
    )
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
    with files.atomic_open(script, "w") as f:
        f.write(
            f"# source this file: jaxd2l's packages and data from {os.path.abspath(bundle)}\n"
            f'export PYTHONPATH="{os.path.abspath(target)}${{PYTHONPATH:+:$PYTHONPATH}}"\n'
            f'export JAXD2L_FASHION_MNIST_DIR="{data}/fashion-mnist"\n'
            f'export JAXD2L_HOUSE_PRICES_DIR="{data}/house-prices"\n'
            "export PIP_NO_INDEX=1\n"
        )
    return script
