"""The tests a claim's parts get, and the decision across a run's claims (the rules are
stated in `verdicts`): a direction by a two-sided t test, an equivalence by TOST
(statsmodels), an exact oracle by its tolerance; Holm's correction across the primary parts
(statsmodels' `multipletests`); and, for an undecided part, about how many seeds would
decide it (statsmodels' power of a t test)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import scipy.stats

from jaxd2l.chapters.claims.verdicts import (
    ALPHA,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    MAX_SEEDS,
    POWER,
    Estimate,
    Part,
)


def _centred(part: Part) -> tuple[np.ndarray, float, float]:
    values = np.asarray(part.effect.values, np.float64)
    return values, float(values.mean()), float(values.std(ddof=1))


def direction(
    name: str, effect: Estimate, predicted: int, threshold: float = 0.0, primary: bool = True
) -> Part:
    """ "A beats B": the effect's side of `threshold` (`predicted` +1 above, -1 below), by a
    two-sided one-sample t test."""
    if predicted not in (1, -1):
        raise ValueError(f"predicted must be +1 or -1, got {predicted!r}")
    part = Part(name, "direction", effect, float(threshold), predicted, primary)
    values, mean, sd = _centred(part)
    if not np.isfinite(mean):
        return part._replace(p=1.0)
    if sd == 0.0:  # every seed agrees: the side is certain, or there is no effect at all
        return part._replace(p=0.0 if mean != threshold else 1.0)
    p = float(scipy.stats.ttest_1samp(values, threshold).pvalue)
    return part._replace(p=p)


def equivalence(name: str, effect: Estimate, margin: float, primary: bool = True) -> Part:
    """ "A and B differ little": TOST within +-`margin` (statsmodels), against the test that
    the effect lies beyond the margin on its side; the smaller p decides."""
    from statsmodels.stats.weightstats import DescrStatsW

    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    part = Part(name, "equivalence", effect, float(margin), 0, primary)
    values, mean, sd = _centred(part)
    if not np.isfinite(mean):
        return part._replace(p=1.0, beyond=True)
    if sd == 0.0:
        return part._replace(p=0.0, beyond=abs(mean) >= margin)
    stats = DescrStatsW(values)
    within = float(stats.ttost_mean(-margin, margin)[0])
    side = ("larger", margin) if mean > 0 else ("smaller", -margin)
    beyond = float(stats.ttest_mean(side[1], alternative=side[0])[1])
    return part._replace(p=min(within, beyond), beyond=beyond < within)


def exact(name: str, value: float, tolerance: float, primary: bool = True) -> Part:
    """An oracle: holds when `value` is finite and at most `tolerance` (no statistics)."""
    ok = math.isfinite(value) and value <= tolerance
    verdict = HOLDS if ok else FAILS
    return Part(name, "exact", None, float(tolerance), 0, primary, float(value), verdict=verdict)


def seeds_needed(part: Part, alpha: float = ALPHA) -> int | None:
    """About how many seeds would decide `part` at its measured effect and spread, with
    80% power at `alpha` (`seeds_for`); None when no number would."""
    if part.test == "exact" or part.effect is None:
        return None
    _, mean, sd = _centred(part)
    return seeds_for(part.test, mean, sd, part.target, alpha)


def seeds_for(test: str, mean: float, sd: float, target: float, alpha: float) -> int | None:
    """The seeds a t test needs for 80% power (statsmodels' `TTestPower`), at an effect
    `mean` with spread `sd`: a direction against `target` (two-sided), an equivalence or
    its opposite at the margin `target` (one-sided, as each of TOST's tests is); at most
    `MAX_SEEDS`; None when no number would decide (no spread, or no distance)."""
    from statsmodels.stats.power import TTestPower

    if not np.isfinite(mean) or not sd > 0:
        return None
    if test == "direction":
        distance, alternative = abs(mean - target), "two-sided"
    else:
        distance, alternative = abs(target - abs(mean)), "larger"
    if distance == 0.0:
        return None
    size, power = distance / sd, TTestPower()

    def enough(n: int) -> bool:
        with warnings.catch_warnings():  # statsmodels warns at tiny effects; the search goes on
            warnings.simplefilter("ignore")
            found = power.power(effect_size=size, nobs=n, alpha=alpha, alternative=alternative)
        if not np.isfinite(found):  # the noncentral t fails at huge effects: Johnson and
            df = n - 1  # Welch's normal approximation of it, at the t test's own critical value
            t = scipy.stats.t.ppf(1 - alpha / (2 if alternative == "two-sided" else 1), df)
            z = (t * (1 - 1 / (4 * df)) - size * math.sqrt(n)) / math.sqrt(1 + t**2 / (2 * df))
            found = scipy.stats.norm.sf(z)
        return bool(found >= POWER)

    high = 2
    while not enough(high):  # the power grows with the seeds: double, then halve the gap
        if high >= MAX_SEEDS:
            return MAX_SEEDS
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return max(2, high)


def _decided(part: Part, significant: bool, alpha: float) -> Part:
    if part.test == "exact":
        return part
    if not significant:
        return part._replace(verdict=INCONCLUSIVE, seeds_needed=seeds_needed(part, alpha))
    if part.test == "direction":
        side = 1 if part.effect.mean > part.target else -1
        return part._replace(verdict=HOLDS if side == part.predicted else FAILS)
    return part._replace(verdict=FAILS if part.beyond else HOLDS)


def decide(parts: Sequence[Part], alpha: float = ALPHA) -> list[Part]:
    """Every part's verdict: the primary parts' p-values corrected together by Holm's
    method (statsmodels' `multipletests`), the secondary ones each at `alpha`."""
    from statsmodels.stats.multitest import multipletests

    family = [i for i, p in enumerate(parts) if p.primary and p.p is not None]
    reject = {}
    if family:
        flags = multipletests([parts[i].p for i in family], alpha=alpha, method="holm")[0]
        reject = dict(zip(family, map(bool, flags), strict=True))
    size = max(len(family), 1)
    out = []
    for i, part in enumerate(parts):
        if i in reject:
            out.append(_decided(part, reject[i], alpha / size))
        elif part.p is not None:
            out.append(_decided(part, part.p < alpha, alpha))
        else:
            out.append(part)
    return out
