"""Intervals across seeds, the tests each claim's parts get, and the one combination rule.

Every measured effect is a value per seed. Its 95% interval is Student's t interval of the
mean; it needs at least 2 seeds (one seed says nothing about the spread). A claim is made of
parts, each a test written before the run (the plan, `experiments/claims_plan.toml`):

- `direction`: "A beats B" -- a two-sided one-sample t test of the effect against its
  threshold; significant on the predicted side: holds, on the other: does not hold here;
  not significant: inconclusive.
- `equivalence`: "A and B differ little" -- TOST at the stated margin (two one-sided tests,
  statsmodels): significant: holds; the effect significantly beyond the margin: does not
  hold here; neither: inconclusive.
- `exact`: an oracle with a tolerance (no statistics): within it holds, else does not.

`decide` applies Holm's correction across the primary parts of every claim in a run
(statsmodels' `multipletests`), and an inconclusive part says how many seeds would decide
it at the effect and spread measured (statsmodels' power of a t test, 80%). `combine` is the
one rule that turns parts into a claim's verdict:

- every part holds: holds;
- every decided part fails (some may be inconclusive): does not hold here;
- parts decided in different directions: depends (naming which went which way);
- otherwise (some hold, the rest inconclusive, or none decided): inconclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.stats

HOLDS, FAILS, INCONCLUSIVE, DEPENDS = "holds", "does not hold here", "inconclusive", "depends"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, DEPENDS)
CONFIDENCE, ALPHA, POWER = 0.95, 0.05, 0.8
MAX_SEEDS = 10_000  # beyond this, "seeds that would decide" is reported as "more than"


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
    """The mean of per-seed `values` with Student's t 95% interval (scipy.stats). Seeds that
    agree exactly give a zero-width interval.

    Raises:
      ValueError: fewer than 2 values (an interval needs a spread to measure).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size < 2:
        raise ValueError(
            f"an interval needs at least 2 seeds, got {values.size}: one value says nothing "
            "about how much the seeds spread (run 2 or more)"
        )
    mean = float(values.mean())
    sem = float(scipy.stats.sem(values))
    kept = tuple(float(v) for v in values)
    if not np.isfinite(mean) or sem == 0.0 or not np.isfinite(sem):
        return Estimate(mean, mean, mean, values.size, kept)
    low, high = scipy.stats.t.interval(CONFIDENCE, values.size - 1, loc=mean, scale=sem)
    return Estimate(mean, float(low), float(high), values.size, kept)


class Part(NamedTuple):
    """One tested part of a claim: the test, what it measured and its verdict."""

    name: str
    """What is compared (the plan names it the same)."""
    test: str
    """"direction", "equivalence" or "exact"."""
    effect: Estimate | None
    """The per-seed effect (None for an exact oracle)."""
    target: float
    """The threshold (direction), the margin (equivalence) or the tolerance (exact)."""
    predicted: int = 0
    """The predicted side for a direction: +1 above the threshold, -1 below."""
    primary: bool = True
    """A primary endpoint (Holm's family, the verdict); else secondary (reported only)."""
    value: float | None = None
    """An exact oracle's measured value."""
    p: float | None = None
    """The p-value of the test that can decide the part (before Holm)."""
    beyond: bool = False
    """Equivalence: the decisive test is "beyond the margin" (not "within it")."""
    verdict: str = INCONCLUSIVE
    """After `decide`."""
    seeds_needed: int | None = None
    """Inconclusive: about how many seeds would decide it at the measured effect and
    spread (80% power); None when no number would (no effect measured)."""

    def to_json(self) -> dict:
        out = self._asdict()
        out["effect"] = self.effect._asdict() if self.effect is not None else None
        return out

    @classmethod
    def from_json(cls, record: dict) -> Part:
        effect = record.get("effect")
        effect = (
            Estimate(**{**effect, "values": tuple(effect.get("values", ()))}) if effect else None
        )
        return cls(**{**record, "effect": effect})


def combine(parts: Sequence[Part]) -> str:
    """The one rule (see the module's docstring), over the primary parts."""
    verdicts = [p.verdict for p in parts if p.primary]
    holds, fails = verdicts.count(HOLDS), verdicts.count(FAILS)
    if verdicts and holds == len(verdicts):
        return HOLDS
    if holds and fails:
        return DEPENDS
    if fails:
        return FAILS
    return INCONCLUSIVE


def describe(part: Part) -> str:
    """One part in words, from what was measured: the effect, the test, the verdict."""
    if part.test == "exact":
        return f"{part.name} = {part.value:.2g} (exact, tolerance {part.target:g}): {part.verdict}"
    rule = (
        f"within +-{part.target:g}"
        if part.test == "equivalence"
        else f"{'above' if part.predicted > 0 else 'below'} {part.target:g}"
    )
    said = f"{part.name} {part.effect.text()} (predicted {rule}; p {part.p:.2g}): {part.verdict}"
    if part.verdict == INCONCLUSIVE:
        n = part.seeds_needed
        said += (
            ", no number of seeds would decide it (no effect measured)"
            if not n
            else f", more than {n} seeds would decide it"
            if n >= MAX_SEEDS
            else f", about {n} seeds would decide it"
        )
    return said + ("" if part.primary else " [secondary]")


def reason(parts: Sequence[Part]) -> str:
    """The claim's reason: every part described, primary first."""
    ordered = sorted(parts, key=lambda p: not p.primary)
    return "; ".join(describe(p) for p in ordered)
