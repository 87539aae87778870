"""Intervals across seeds and the verdict rules, written before any claim is run.

Every measured effect is a value per seed; its 95% interval is Student's t interval of the
mean (`scipy.stats.t.interval`). A rule turns intervals into one of three verdicts:
"holds", "does not hold here" or "depends", each with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.stats

HOLDS, FAILS, DEPENDS = "holds", "does not hold here", "depends"
CONFIDENCE = 0.95


class Estimate(NamedTuple):
    """A mean over seeds and its 95% interval."""

    mean: float
    low: float
    high: float
    seeds: int
    values: tuple[float, ...] = ()
    """The per-seed values it came from (so a record can be re-derived and tabled)."""

    def text(self, digits: int = 3) -> str:
        """`mean [low, high]`, rounded to `digits` significant digits."""
        f = f"{{:.{digits}g}}"
        return f"{f.format(self.mean)} [{f.format(self.low)}, {f.format(self.high)}]"


def estimate(values: Sequence[float] | np.ndarray) -> Estimate:
    """The mean of per-seed `values` with Student's t 95% interval (scipy.stats); a single
    seed, or seeds that agree exactly, give a zero-width interval."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("no values to estimate from: run at least one seed")
    mean = float(values.mean())
    sem = float(scipy.stats.sem(values)) if values.size > 1 else 0.0
    kept = tuple(float(v) for v in values)
    if not np.isfinite(mean):
        return Estimate(mean, mean, mean, values.size, kept)
    if sem == 0.0 or not np.isfinite(sem):
        return Estimate(mean, mean, mean, values.size, kept)
    low, high = scipy.stats.t.interval(CONFIDENCE, values.size - 1, loc=mean, scale=sem)
    return Estimate(mean, float(low), float(high), values.size, kept)


def side(effect: Estimate, threshold: float = 0.0) -> int:
    """+1 when the interval lies above `threshold`, -1 below it, 0 when it straddles it
    (a non-finite effect is 0: nothing can be said)."""
    if not np.isfinite(effect.mean):
        return 0
    if effect.low > threshold:
        return 1
    if effect.high < threshold:
        return -1
    return 0


def direction(effect: Estimate, predicted: int, threshold: float = 0.0) -> str:
    """The rule for "A beats B": holds if the interval of the effect lies on the predicted
    side of `threshold` (`predicted` is +1 or -1), does not hold if it lies on the other
    side, depends if it straddles it."""
    found = side(effect, threshold)
    return DEPENDS if found == 0 else HOLDS if found == predicted else FAILS


def equivalence(effect: Estimate, margin: float) -> str:
    """The rule for "A and B differ little": holds if the whole interval of the difference
    lies within +-margin, does not hold if it lies wholly outside, depends otherwise."""
    if not np.isfinite(effect.mean):
        return FAILS
    if -margin < effect.low and effect.high < margin:
        return HOLDS
    if effect.low > margin or effect.high < -margin:
        return FAILS
    return DEPENDS


def combine(parts: Sequence[str]) -> str:
    """All parts hold: holds; none holds and one fails: does not hold; else depends."""
    if all(p == HOLDS for p in parts):
        return HOLDS
    if all(p == FAILS for p in parts):
        return FAILS
    return DEPENDS
