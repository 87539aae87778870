"""When a run has diverged: the rule every driver and the vmapped trials apply.

A run diverges at the first epoch whose mean training loss is NaN or infinite, or exceeds
`FACTOR` times the untrained model's loss on the first batch (which the epoch measures
before its first update). The second half catches finite explosions (a loss of thousands,
or 1e13) that never reach inf. Drivers take `divergence_factor=None` to turn the rule off, for
people who study such runs; a hand-written epoch that reports no first-batch loss gets the
non-finite half only.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from jaxd2l.checks.errors import UserError
from jaxd2l.core.step import FIRST_BATCH_LOSS

FACTOR = 100.0


def breaks_rule(loss: Any, reference: Any = None, factor: float | None = FACTOR) -> np.ndarray:
    """The rule, element by element: True where `loss` is not finite, or above `factor`
    times `reference` (the untrained model's first-batch loss; broadcast against `loss`,
    None for the non-finite half only). Works on a float, one run's losses per epoch, or
    a stack of runs; the one array function every driver, sweep and search applies."""
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


def reference_of(history: list[dict[str, Any]]) -> Any:
    """The untrained model's first-batch loss, from the first epoch's record (None when the
    epoch did not report it)."""
    return history[0].get(f"train_{FIRST_BATCH_LOSS}") if history else None


def describe(factor: float | None) -> str:
    if factor is None:
        return "the training loss is not finite"
    return f"the training loss is not finite, or above {factor:g}x the untrained model's"


class DivergedError(UserError):
    """The run broke the divergence rule (`jaxd2l.core.divergence`): a training loss that is NaN
    or infinite, or far above the untrained model's. `history` holds every epoch run (or,
    from a search, every trial), `loss` the loss that broke the rule, `factor` the rule's
    factor (None: only the non-finite half applied). `message` replaces the one-run wording."""

    def __init__(
        self,
        epoch: int,
        last_finite: float | None,
        history: list[dict[str, Any]],
        message: str | None = None,
        factor: float | None = FACTOR,
    ):
        self.epoch, self.last_finite, self.history = epoch, last_finite, history
        self.factor = factor
        loss = history[-1].get("train_loss") if history else None
        self.loss = loss
        """The mean training loss of the epoch that broke the rule (NaN or inf included)."""
        first = reference_of(history)
        said = f"training diverged at epoch {epoch}: the training loss is "
        said += f"{loss:.4g}" if isinstance(loss, float) else "not finite"
        if isinstance(first, float) and factor is not None:
            said += f", the untrained model's {first:.4g} (the rule: at most {factor:g}x)"
        if last_finite is not None:
            said += f"; the epoch before: {last_finite:.4g}"
        super().__init__(message or f"{said}; lower the learning rate")


def check_divergence(history: list[dict[str, Any]], factor: float | None) -> None:
    """Apply the rule to the last record of one run: raise DivergedError when it breaks it.
    A vmapped stack of trials (one loss per member) is never stopped here: its members are
    marked with `diverged_runs` on the losses instead."""
    record = history[-1]
    if isinstance(record["train_loss"], list):
        return
    reference = reference_of(history)
    if bool(breaks_rule(record["train_loss"], reference, factor)):
        earlier = [
            r["train_loss"]
            for r in history[:-1]
            if not bool(breaks_rule(r["train_loss"], reference, factor))
        ]
        raise DivergedError(
            record["epoch"], earlier[-1] if earlier else None, history, factor=factor
        )


def check_minimized(
    untrained: Any, final: Any, what: str, fix: str, names: Any = None, factor: float = FACTOR
) -> None:
    """The rule for a loss minimised outside an epoch (a full-batch fit, an autoencoder, a
    stack of fits): raise DivergedError when `final` is not finite or above `factor` times
    `untrained`. Scalars, or one value a member (`names` labels the members in the message).
    Inside `jit` or `vmap` (tracers) nothing can be checked: the caller checks the returned
    losses once they are values."""
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
        0,
        None,
        [],
        f"{who} diverged: the loss is {finals[i]:.4g}, the untrained {firsts[i]:.4g} (the "
        f"rule: finite and at most {factor:g}x); {fix}",
        factor,
    )
