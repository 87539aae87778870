"""The drift check's simple half: measured figures typed in prose, outside the generated
blocks (`render.block`) and outside code."""

from __future__ import annotations

import re

FIGURE = re.compile(
    r"\d\s*s/epoch|test acc(uracy)?[^|\n]{0,12}\d\.\d|\d\s*x faster|\d\s*GFLOP/s", re.I
)


def typed_figures(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each measured figure typed in prose: outside fenced code and
    outside generated blocks (a simple check for the patterns in use: s/epoch, test acc,
    x faster, GFLOP/s)."""
    found, fenced, generated = [], False, False
    for number, text_line in enumerate(text.splitlines(), start=1):
        stripped = text_line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
        elif stripped.startswith("<!-- results:"):
            generated = True
        elif stripped.startswith("<!-- /results:"):
            generated = False
        elif not fenced and not generated and FIGURE.search(text_line):
            found.append((number, text_line))
    return found
