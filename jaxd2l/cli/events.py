"""TensorBoard event files beside metrics.json, through tensorboardX (no TensorFlow):
`tensorboard --logdir runs` shows every run's curves, and a search's trials (or a claim's
seeds) as one sortable table in the hparams plugin.

Each epoch's record becomes scalars at step = epoch (`train_loss` -> `train/loss`,
`test_acc` -> `test/acc`, `seconds` -> `time/epoch_s`); the final figures become scalars
under `final/` at step 0; `hparams(rows, ...)` writes one hparams run per row. Files are
flushed after every epoch, so a run that fails keeps its curves, as metrics.json does.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterator, Sequence
from typing import Any


def tag_of(name: str) -> str:
    """A record's key as a TensorBoard tag: the split ("train", "test") first."""
    if name.endswith("seconds"):
        return f"time/{name.removesuffix('seconds').rstrip('_') or 'epoch'}_s"
    split, _, metric = name.partition("_")
    return f"{split}/{metric}" if split in ("train", "test", "val") and metric else name


def scalars(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """(tag, value) for every finite real number in a nested dict (lists are left out)."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from scalars(value, f"{name}/")
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            if math.isfinite(value):
                yield name, float(value)


class EventLog:
    """One run's event files in `folder` (the run's output folder); a no-op where
    tensorboardX is not installed (the record stays the source of truth)."""

    def __init__(self, folder: str):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:  # pragma: no cover - a declared dependency
            self.writer = None
            return
        self.folder = folder
        self.writer = SummaryWriter(logdir=folder, flush_secs=5)

    def epoch(self, record: dict[str, Any]) -> None:
        if self.writer is None or "epoch" not in record:
            return
        step = int(record["epoch"])
        for name, value in scalars({k: v for k, v in record.items() if k != "epoch"}):
            self.writer.add_scalar(tag_of(name), value, step)
        self.writer.flush()

    def final(self, final: dict[str, Any]) -> None:
        if self.writer is None:
            return
        for name, value in scalars(final, "final/"):
            self.writer.add_scalar(name, value, 0)
        self.writer.flush()

    def hparams(
        self,
        rows: Sequence[dict[str, Any]],
        params: Sequence[str],
        metrics: Sequence[str],
        group: str = "",
    ) -> None:
        """One hparams run per row (a trial, a seed): `params` its settings, `metrics` what
        it measured; the plugin shows them as one table to sort and filter. `group` keeps
        tables apart in one run folder (one per claim)."""
        if self.writer is None:
            return
        for i, row in enumerate(rows):
            hparams = {p: _plain(row.get(p)) for p in params}
            measured = {m: float(row[m]) for m in metrics if _finite(row.get(m))}
            name = os.path.join("hparams", group, f"{i:04d}") if group else f"hparams/{i:04d}"
            self.writer.add_hparams(hparams, measured, name=name)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value: Any) -> Any:
    """An hparam value the plugin takes: a number, a bool or a string."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
