"""Early stopping (d2l-en 5.5), a hook of `fit`: stop when a validation figure stops
improving, and hand back the best epoch's parameters."""

from __future__ import annotations

from typing import Any

import jax

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.hooks import Hook, Record, StopTraining, hook_name


class EarlyStopping(Hook):
    """d2l-en 5.5: stop after `patience` epochs without improving `monitor`, a key of the
    epoch's record such as "validation_acc" (higher is better unless `mode="min"`), keeping
    the best epoch's parameters (`best_params`, `best_epoch`). `fit` then returns them as its
    `params` (`restore_best`, Keras' `restore_best_weights`), and with a `Checkpoint` they
    are saved under `name` and a resume picks up where it was."""

    def __init__(
        self,
        patience: int,
        monitor: str,
        mode: str = "max",
        *,
        restore_best: bool = True,
        name: str = "early_stopping",
    ):
        self.patience = checks.integer(patience, "patience", minimum=1)
        if not isinstance(monitor, str) or not monitor:
            raise ArgumentTypeError(
                "monitor must name a key of the epoch's record, e.g. 'validation_acc' or "
                f"'validation_loss' (with mode='min'), got {monitor!r}"
            )
        self.monitor, self.mode = monitor, checks.choice(mode, ("max", "min"), "mode")
        self.restore_best, self.name = bool(restore_best), hook_name(name)
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_params: Any = None
        self.waited = 0

    def update(self, record: Record, params: Any) -> bool:
        """Take one epoch's record and parameters; True when the run should stop."""
        if self.monitor not in record:
            known = ", ".join(k for k in record if k != "epoch")
            raise ArgumentError(
                f"early stopping monitors {self.monitor!r}, which the records lack (they hold "
                f"{known}): pass evaluate= and validation= to fit, or monitor one of those"
            )
        value = record[self.monitor]
        better = self.best is None or (
            value > self.best if self.mode == "max" else value < self.best
        )
        if better:
            self.best, self.best_epoch, self.waited = value, record["epoch"], 0
            if params is not None:  # a copy: the state is donated to the next epoch
                self.best_params = jax.tree.map(lambda p: p.copy(), params)
            return False
        self.waited += 1
        return self.waited >= self.patience

    def replay(self, record: Record) -> None:
        if self.update(record, None):  # the best parameters come back through the carry
            raise StopTraining

    def after_epoch(self, state: Any, record: Record) -> None:
        if self.update(record, state.params):
            raise StopTraining

    def carry(self, state: Any) -> Any:
        return self.best_params if self.best_params is not None else state.params

    def restore_carry(self, tree: Any) -> None:
        if self.best_epoch is not None:
            self.best_params = tree

    def kept(self) -> tuple[int, Any] | None:
        if not self.restore_best or self.best_params is None:
            return None
        return self.best_epoch, self.best_params
