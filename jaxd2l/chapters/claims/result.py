"""What a claim returns: its words, its setting, what was measured and the verdict."""

from __future__ import annotations

from typing import Any, NamedTuple

from jaxd2l.chapters.claims.verdicts import Estimate


class ClaimResult(NamedTuple):
    """One claim of the course note, measured."""

    number: int
    """The claim's place in the note (1-11)."""
    name: str
    """Its short name (`--claim NAME`)."""
    note: str
    """The note's words, shortened."""
    setting: str
    """What was run: data, model, optimizer, epochs, seeds."""
    rule: str
    """The verdict rule, as written in the code before the run."""
    measured: dict[str, Estimate]
    """Each measured quantity: its mean over seeds and 95% interval."""
    verdict: str
    """holds / does not hold here / depends."""
    reason: str
    """Why, in numbers."""
    figure: dict[str, Any]
    """What `plot.claims_figures.save_claim` draws."""
    details: dict[str, Any] = {}
    """Anything else worth keeping (per-seed values, settings)."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (estimates as {mean, low, high, seeds}; the figure's data kept,
        so pages can redraw it from the record)."""
        out = self._asdict()
        out["measured"] = {k: v._asdict() for k, v in self.measured.items()}
        return out

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> ClaimResult:
        """The result back from `to_json`'s dict (e.g. a record in results/claims.json)."""
        measured = {k: Estimate(**v) for k, v in record["measured"].items()}
        fields = {k: record.get(k) for k in cls._fields}
        return cls(**{**fields, "measured": measured, "details": record.get("details") or {}})
