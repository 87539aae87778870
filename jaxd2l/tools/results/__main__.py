"""`python -m jaxd2l.tools.results [make|readme|page DIR|list] [NAMES...]`: run the
documented set into `results/` (make), rewrite the README's blocks (readme), write the docs'
Results page into DIR (page), or list the documented runs (list)."""

from __future__ import annotations

import sys

from jaxd2l.core.errors import UserError
from jaxd2l.core.files import output_folder
from jaxd2l.tools.results.catalog import ENTRIES
from jaxd2l.tools.results.make import make
from jaxd2l.tools.results.render import update_readme, write_pages

USAGE = "usage: python -m jaxd2l.tools.results [make [NAMES...] | readme | page DIR | list]"


def main(argv: list[str]) -> int:
    command, names = (argv[0], argv[1:]) if argv else ("make", [])
    if command == "make":
        return make(names)
    takes = {"readme": 0, "list": 0, "page": 1}
    if command not in takes:
        raise UsageError(f"unknown command {command!r}; {USAGE}")
    if len(names) != takes[command]:
        raise UsageError(
            f"{command} takes {takes[command] or 'no'} argument(s), got {names}; {USAGE}"
        )
    if command == "readme":
        update_readme()
    elif command == "page":
        write_pages(output_folder(names[0], "the page's folder"))
    else:
        for e in ENTRIES:
            print(f"{e.name:32s} {e.command}")
    return 0


class UsageError(UserError):
    """A command line the tool does not take (exit 2)."""


def run(argv: list[str]) -> int:
    """`main`, a user's mistake (a damaged record, ...) told in one line: exit 1."""
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
