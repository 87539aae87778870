"""`python -m jaxd2l.tools.results [make|readme|page DIR|list] [NAMES...]`: run the
documented set into `results/` (make), rewrite the README's blocks (readme), write the docs'
Results page into DIR (page), or list the documented runs (list)."""

from __future__ import annotations

import sys

from jaxd2l.core.errors import UserError
from jaxd2l.tools.results.catalog import ENTRIES
from jaxd2l.tools.results.make import make
from jaxd2l.tools.results.render import update_readme, write_pages


def main(argv: list[str]) -> int:
    command, names = (argv[0], argv[1:]) if argv else ("make", [])
    if command == "make":
        return make(names)
    if command == "readme":
        update_readme()
        return 0
    if command == "page" and len(names) == 1:
        write_pages(names[0])
        return 0
    if command == "list":
        for e in ENTRIES:
            print(f"{e.name:32s} {e.command}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


def run(argv: list[str]) -> int:
    """`main`, a user's mistake (a damaged record, ...) told in one line: exit 1."""
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
