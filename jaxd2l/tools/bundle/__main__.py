"""`python -m jaxd2l.tools.bundle make|check|install` (see the package docstring)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from jaxd2l.checks.errors import UserError
from jaxd2l.tools import bundle
from jaxd2l.tools.bundle.installer import install
from jaxd2l.tools.bundle.make import PLATFORMS, make_bundle
from jaxd2l.tools.bundle.manifest import check_bundle


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jaxd2l.tools.bundle",
        description=bundle.__doc__,
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
