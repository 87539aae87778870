"""When a run has diverged: the rule every driver and the vmapped trials apply.

A run diverges at the first epoch whose mean training loss is NaN or infinite, or exceeds
`FACTOR` times the untrained model's loss on the first batch (which the epoch measures
before its first update). The second half catches finite explosions (a loss of thousands,
or 1e13) that never reach inf. Drivers take `divergence=None` to turn the rule off, for
people who study such runs; a hand-written epoch that reports no first-batch loss gets the
non-finite half only.
"""

from __future__ import annotations

import math
from typing import Any

from jaxd2l.core.errors import UserError
from jaxd2l.core.step import FIRST_BATCH_LOSS

FACTOR = 100.0


def breaks_rule(loss: float, reference: float | None, factor: float | None) -> bool:
    if not math.isfinite(loss):
        return True
    return factor is not None and reference is not None and loss > factor * reference


def diverged(loss: Any, reference: Any, factor: float | None = FACTOR) -> Any:
    """True where `loss` (a float, or a list with one value per trial) breaks the rule
    against `reference` (the first-batch loss, same shape, or None)."""
    if isinstance(loss, list):
        refs = reference if isinstance(reference, list) else [reference] * len(loss)
        return [breaks_rule(v, r, factor) for v, r in zip(loss, refs, strict=True)]
    return breaks_rule(loss, reference, factor)


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
    """Apply the rule to the last record: raise DivergedError for one run; for a vmapped
    stack of trials, mark the members in `train_diverged` (training goes on)."""
    record = history[-1]
    flags = diverged(record["train_loss"], reference_of(history), factor)
    if isinstance(flags, list):
        record["train_diverged"] = flags
        return
    if flags:
        earlier = [
            r["train_loss"]
            for r in history[:-1]
            if not diverged(r["train_loss"], reference_of(history), factor)
        ]
        raise DivergedError(
            record["epoch"], earlier[-1] if earlier else None, history, factor=factor
        )
