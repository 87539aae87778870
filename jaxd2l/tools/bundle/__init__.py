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

from jaxd2l.tools.bundle.installer import check_image, install
from jaxd2l.tools.bundle.make import IMAGE_PACKAGES, SKIPPED, make_bundle, packages_to_bundle
from jaxd2l.tools.bundle.manifest import MANIFEST, check_bundle, sha256, write_manifest

__all__ = [
    "IMAGE_PACKAGES",
    "MANIFEST",
    "SKIPPED",
    "check_bundle",
    "check_image",
    "install",
    "make_bundle",
    "packages_to_bundle",
    "sha256",
    "write_manifest",
]
