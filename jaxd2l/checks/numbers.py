"""The one reader for numbers that come as text: flags, environment variables, ports.

Python's `int` and `float` accept more than a user means: full-width and other Unicode
digits, `1_000`, `nan`, `inf`. Here only ASCII digits pass, the value must be finite and in
its range, and the error names where the text came from.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from typing import Any

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def read_number(text: Any, kind: type, name: str, minimum=None, maximum=None):
    """The one reader for every number that comes as text (a flag, an environment variable,
    a port): ASCII digits only (full-width or other Unicode digits, `1_000`, `0x10`, units
    such as `10s` refused), finite, in [`minimum`, `maximum`]. Returns an int or a float."""
    if not isinstance(text, str):
        raise ArgumentTypeError(f"{name} must be given as text, got {type(text).__name__}")
    stripped = text.strip()
    pattern = _INT if kind is int else _FLOAT
    if not stripped.isascii() or not pattern.fullmatch(stripped):
        what = "an integer" if kind is int else "a number"
        raise ArgumentError(
            f"{name} must be {what} written in ASCII digits (no units, separators or other "
            f"scripts), got {text!r}"
        )
    value = int(stripped) if kind is int else float(stripped)
    if kind is float and not math.isfinite(value):
        raise ArgumentError(f"{name} must be a finite number, got {text!r}")
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{name} must be >= {minimum}, got {text!r}")
    if maximum is not None and value > maximum:
        raise ArgumentError(f"{name} must be <= {maximum}, got {text!r}")
    return value


def env_number(var: str, default, kind: type, minimum=None, maximum=None):
    """An environment variable read with `read_number` (its name in the error), or
    `default` when it is unset or empty."""
    text = os.environ.get(var, "")
    if not text.strip():
        return default
    return read_number(text, kind, f"the environment variable {var}", minimum, maximum)


def number_type(kind: type, minimum=None, maximum=None) -> Any:
    """An argparse `type` for an int or float flag through `read_number` (other types are
    returned as they are), so every command line reads numbers one way."""
    if kind not in (int, float):
        return kind

    def parse(text: str):
        try:
            return read_number(text, kind, "the value", minimum, maximum)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse
