"""d2l-en 5.5: early stopping, and the label noise that makes it matter.

`EarlyStopping(patience)` goes to `fit(..., early_stopping=...)`: after every epoch it
compares the monitored figure of the record (the accuracy on the evaluation split by
default: pass the validation split as `test`) with the best so far, keeps a copy of the
best epoch's parameters, and stops the run once `patience` epochs in a row brought no
improvement. `noisy_labels` replaces a fraction of the training labels at random.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from jaxd2l.core import checks
from jaxd2l.core.errors import ArgumentError


def noisy_labels(key: jax.Array, y: jax.Array, fraction: float, num_classes: int = 10):
    """y with `fraction` of its entries (chosen at random, exactly round(fraction * n) of
    them) replaced by labels drawn uniformly from the other classes: every chosen label is
    wrong. Returns (noisy y, mask of the replaced entries)."""
    checks.key(key)
    if not 0 <= fraction <= 1:
        raise ArgumentError(f"fraction (of noisy labels) must be in [0, 1], got {fraction}")
    n = y.shape[0]
    pick_key, shift_key = jax.random.split(key)
    chosen = jax.random.permutation(pick_key, n) < round(fraction * n)
    shift = jax.random.randint(shift_key, (n,), 1, num_classes)  # never 0: another class
    noisy = jnp.where(chosen, (y + shift) % num_classes, y).astype(y.dtype)
    return noisy, chosen


@dataclasses.dataclass
class EarlyStopping:
    """Stop after `patience` epochs without improving `monitor` (higher is better unless
    `mode="min"`), keeping the best epoch's parameters (`best_params`, `best_epoch`)."""

    patience: int
    monitor: str = "test_acc"
    mode: str = "max"
    best: float | None = None
    best_epoch: int | None = None
    best_params: Any = None
    waited: int = 0

    def __post_init__(self):
        checks.integer(self.patience, "patience", minimum=1)
        if self.mode not in ("max", "min"):
            raise ArgumentError(f"mode must be 'max' or 'min', got {self.mode!r}")

    def update(self, record: dict[str, Any], params: Any) -> bool:
        """Take one epoch's record and parameters; True when the run should stop."""
        if self.monitor not in record:
            raise ArgumentError(
                f"early stopping monitors {self.monitor!r}, which the records lack: pass "
                "evaluate= and test= (the validation split) to fit"
            )
        value = record[self.monitor]
        better = self.best is None or (
            value > self.best if self.mode == "max" else value < self.best
        )
        if better:
            self.best, self.best_epoch, self.waited = value, record["epoch"], 0
            self.best_params = jax.tree.map(lambda p: p.copy(), params)  # the state is donated
            return False
        self.waited += 1
        return self.waited >= self.patience
