"""`python -m jaxd2l.tools.results [make|readme|page DIR|list|check] [NAMES...]`: run the
documented set into `results/` (make; `make --stale` remakes the stale records only),
rewrite the README's blocks (readme), write the docs' Results page into DIR (page), list
the documented runs (list), or name each record whose code changed since its commit
(check: exit 1 when any did, so a CI can ask; 0 when every record is current)."""

from __future__ import annotations

import sys

from jaxd2l.checks.errors import UserError
from jaxd2l.checks.files import output_folder
from jaxd2l.tools.results.catalog import ENTRIES
from jaxd2l.tools.results.make import make
from jaxd2l.tools.results.records import load
from jaxd2l.tools.results.render import update_readme, write_pages
from jaxd2l.tools.results.stale import describe, stale_records

USAGE = (
    "usage: python -m jaxd2l.tools.results "
    "[make [--stale | NAMES...] | readme | page DIR | list | check]"
)


def main(argv: list[str]) -> int:
    command, names = (argv[0], argv[1:]) if argv else ("make", [])
    if command == "make" and names == ["--stale"]:
        stale = stale_records(load())
        print(f"{len(stale)} stale record(s): {', '.join(stale) or 'none'}")
        return make(list(stale)) if stale else 0
    if command == "make":
        return make(names)
    takes = {"readme": 0, "list": 0, "page": 1, "check": 0}
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
    elif command == "check":
        records = load()
        stale = stale_records(records)
        for name, said in stale.items():
            print(describe(name, said))
        print(f"{len(stale)} of {len(records)} records are stale (make results-stale remakes them)")
        return 1 if stale else 0
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
