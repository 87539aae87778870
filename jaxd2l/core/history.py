"""A run's history as arrays, and the divergence rule every driver, sweep and search applies.

An epoch's record is a dict of plain numbers (lists, one per member, for a vmapped stack):
what hooks see and JSON keeps. A run's history is the same names stacked over epochs,
name -> array [epochs, ...] (purejaxrl's stacked metrics): `stack` makes it, `records`
takes it apart.

The rule: a run diverges at the first epoch whose mean training loss is not finite, or above
`FACTOR` times its reference, the untrained model's first-batch loss (measured by the epoch
before its first update), which catches finite explosions that never reach inf.
`factor=None`, or no reference, leaves the non-finite half. `DivergedError` is raised here
and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from jaxd2l.checks.errors import UserError

FACTOR = 100.0
History = dict[str, np.ndarray]
Record = dict[str, Any]


def means(sums: dict[str, Any], prefix: str, parallel=None) -> Record:
    """An epoch's or an evaluation's sums as per-example means on the host, named
    `prefix_name` (plain floats; lists of floats, one per member, for a vmapped stack)."""
    count = sums["count"]
    values = {k: v / count for k, v in sums.items() if k != "count"}
    values = parallel.to_host(values) if parallel is not None else jax.device_get(values)
    return {f"{prefix}_{k}": np.asarray(v).tolist() for k, v in values.items()}


def stack(records: Sequence[Record]) -> History:
    """Per-epoch records as name -> array over epochs (a name some records lack is NaN
    there)."""
    names = list(dict.fromkeys(k for r in records for k in r))
    return {k: np.asarray([r.get(k, np.nan) for r in records]) for k in names}


def records(history: History) -> list[Record]:
    """The history's epochs as records of plain numbers (for hooks, JSON and replays)."""
    length = len(next(iter(history.values()))) if history else 0
    return [{k: np.asarray(v[i]).tolist() for k, v in history.items()} for i in range(length)]


def breaks_rule(loss: Any, reference: Any = None, factor: float | None = FACTOR) -> np.ndarray:
    """The rule, element by element: True where `loss` is not finite, or above `factor`
    times `reference` (broadcast against `loss`; None for the non-finite half only). Works
    on a float, one run's losses per epoch, or a stack of runs."""
    loss = np.asarray(loss, np.float64)
    bad = ~np.isfinite(loss)
    if factor is not None and reference is not None:
        with np.errstate(invalid="ignore"):
            bad |= loss > factor * np.asarray(reference, np.float64)
    return bad


def diverged_runs(curves: Any, reference: Any = None, factor: float | None = FACTOR) -> Any:
    """Per run, whether any epoch broke the rule: `curves` [..., epochs] of training
    losses, `reference` [...] (one per run) or a scalar. Returns a bool array [...]."""
    curves = np.asarray(curves, np.float64)
    if reference is not None:
        reference = np.broadcast_to(np.asarray(reference, np.float64), curves.shape[:-1])
        reference = reference[..., None]
    return breaks_rule(curves, reference, factor).any(axis=-1)


class DivergedError(UserError):
    """A run broke the divergence rule: a training loss that is NaN or infinite, or far
    above the untrained model's. `epoch` is where (counted from 1; 0 when no epoch is
    meant), `loss` the loss that broke it, `factor` the rule's factor (None: the non-finite
    half only) and `history` what ran up to there (name -> array, or a search's rows)."""

    def __init__(self, message: str, *, epoch=0, loss=None, factor=FACTOR, history=None):
        super().__init__(message)
        self.epoch, self.loss, self.factor = epoch, loss, factor
        self.history = history if history is not None else {}


def describe(factor: float | None) -> str:
    if factor is None:
        return "the training loss is not finite"
    return f"the training loss is not finite, or above {factor:g}x the untrained model's"


def check_curve(
    losses: Any,
    reference: Any,
    factor: float | None = FACTOR,
    *,
    start: int = 0,
    what: str | None = None,
    unit: str = "epoch",
    fix: str = "lower the learning rate",
    history: Any = None,
) -> None:
    """One run's curve of losses (an epoch's mean each, or a step's; `start` ran before):
    raise `DivergedError` at the first that breaks the rule, led by `what`, ending `fix`."""
    losses = np.asarray(losses, np.float64)
    bad = breaks_rule(losses, reference, factor)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    loss = float(losses[i])
    said = f"{what}: " if what else ""
    said += f"training diverged at {unit} {start + i + 1}: the training loss is "
    said += f"{loss:.4g}" if np.isfinite(loss) else "not finite"
    if reference is not None and factor is not None and np.isfinite(reference):
        said += f", the untrained model's {float(reference):.4g} (the rule: at most {factor:g}x)"
    if i > 0:
        said += f"; the {unit} before: {losses[i - 1]:.4g}"
    raise DivergedError(
        f"{said}; {fix}", epoch=start + i + 1, loss=loss, factor=factor, history=history
    )


def check_members(
    diverged: dict[str, bool], what: str, fix: str, history: Any = None, every: str = ""
) -> None:
    """A sweep's verdict: raise `DivergedError` naming the members that broke the rule
    (`diverged`: name -> whether it did); `every` leads when all did ("every trial")."""
    names = [name for name, bad in diverged.items() if bad]
    if not names:
        return
    count = f"{len(names)} of {len(diverged)}"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    if every and len(names) == len(diverged):
        said = f"{every} diverged ({count}: {shown})"
    else:
        said = f"{count} {what} diverged ({shown})"
    raise DivergedError(f"{said}: {describe(FACTOR)}; {fix}", history=history)


def check_minimized(
    untrained: Any, final: Any, what: str, fix: str, names: Any = None, factor: float = FACTOR
) -> None:
    """The rule for a loss minimised outside an epoch (a full-batch fit, an autoencoder, a
    stack of fits): raise when `final` is not finite or above `factor` times `untrained`.
    Scalars, or one value a member (`names` labels the members in the message). Inside
    `jit` or `vmap` (tracers) nothing can be checked: the caller checks the returned losses
    once they are values."""
    if any(isinstance(x, jax.core.Tracer) for x in (untrained, final)):
        return
    bad = np.atleast_1d(breaks_rule(final, untrained, factor))
    if not bad.any():
        return
    finals = np.atleast_1d(np.asarray(final, np.float64))
    firsts = np.broadcast_to(np.asarray(untrained, np.float64), finals.shape)
    i = int(np.argmax(bad))
    who = what if names is None else f"{what} ({names[i]}; {int(bad.sum())} of {bad.size})"
    raise DivergedError(
        f"{who} diverged: the loss is {finals[i]:.4g}, the untrained {firsts[i]:.4g} (the "
        f"rule: finite and at most {factor:g}x); {fix}",
        loss=float(finals[i]),
        factor=factor,
    )
