"""The values a sweep trains over (learning rates, penalty strengths, degrees, widths): one
check at every sweep's boundary, since each value names a member of the result (a curve by
rate, a row by degree) and a repeat would overwrite or double it silently."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError


def grid(
    values: Any,
    name: str,
    *,
    integer: bool = False,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    unique: bool = True,
) -> list:
    """`values` as a list when they are a non-empty flat sequence of finite numbers (ints
    when `integer`), each within the bounds, no value twice (unless `unique=False`); else
    the library's own error naming `name`, the value and the fix."""
    if isinstance(values, (str, bytes, dict)) or values is None:
        raise ArgumentTypeError(f"{name} must be a list of numbers, got {values!r}")
    shape = np.shape(values)
    if len(shape) != 1 or shape[0] == 0:
        raise ArgumentError(f"{name} must be a non-empty 1-D list of numbers, got shape {shape}")
    out = []
    for i, v in enumerate(np.asarray(values).tolist()):
        kind = numbers.Integral if integer else numbers.Real
        if isinstance(v, bool) or not isinstance(v, kind):
            want = "an int" if integer else "a number"
            raise ArgumentTypeError(f"{name}[{i}] must be {want}, got {v!r}")
        if not math.isfinite(v):
            raise ArgumentError(f"{name}[{i}] must be finite, got {v}")
        for bound, ok, said in (
            (minimum, lambda b, v=v: v >= b, ">="),
            (above, lambda b, v=v: v > b, ">"),
            (maximum, lambda b, v=v: v <= b, "<="),
        ):
            if bound is not None and not ok(bound):
                raise ArgumentError(f"{name}[{i}] must be {said} {bound:g}, got {v:g}")
        out.append(v)
    if unique and len(set(out)) < len(out):
        twice = sorted({v for v in out if out.count(v) > 1})
        raise ArgumentError(
            f"{name} holds {', '.join(f'{v:g}' for v in twice)} more than once: each value "
            "names one member of the sweep's result"
        )
    return out
