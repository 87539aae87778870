"""What a claim returns: its words, its setting, what was measured and the verdict."""

from __future__ import annotations

from typing import Any, NamedTuple

from jaxd2l.chapters.claims.decide import decide
from jaxd2l.chapters.claims.verdicts import Estimate, Part, combine, reason


class ClaimResult(NamedTuple):
    """One claim of the course note, measured."""

    number: int
    """The claim's place in the note (1-11; 12 added by the second pass)."""
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
    """holds / does not hold here / inconclusive / depends (`verdicts.combine`)."""
    reason: str
    """Why, in numbers: every part described from what was measured (`verdicts.reason`)."""
    figure: dict[str, Any]
    """What `plot.claims_figures.save_claim` draws."""
    details: dict[str, Any] = {}
    """Anything else worth keeping (settings, what the plan answers)."""
    parts: tuple[Part, ...] = ()
    """The tested parts (primary and secondary), each with its test and verdict."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (estimates as {mean, low, high, seeds}; the figure's data kept,
        so pages can redraw it from the record)."""
        out = self._asdict()
        out["measured"] = {k: v._asdict() for k, v in self.measured.items()}
        out["parts"] = [p.to_json() for p in self.parts]
        return out

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> ClaimResult:
        """The result back from `to_json`'s dict (e.g. a record in results/claims.json)."""
        measured = {k: Estimate(**v) for k, v in record["measured"].items()}
        fields = {k: record.get(k) for k in cls._fields}
        parts = tuple(Part.from_json(p) for p in record.get("parts") or ())
        details = record.get("details") or {}
        return cls(**{**fields, "measured": measured, "details": details, "parts": parts})


def claim_result(*fields: Any, parts: list[Part], details: dict | None = None) -> ClaimResult:
    """A claim's result from its fields (number, name, note, setting, rule, measured, and
    the figure last) and its parts, decided within the claim: the verdict by `combine`, the
    reason generated from the parts. A run decides again across its claims (`decide_all`)."""
    *head, figure = fields
    parts = decide(parts)
    verdict, said = combine(parts), reason(parts)
    return ClaimResult(*head, verdict, said, figure, details or {}, tuple(parts))


def decide_all(results: list[ClaimResult], alpha: float) -> list[ClaimResult]:
    """Every claim of a run decided together: Holm's correction across all their primary
    parts, then each claim's verdict and reason again."""
    flat = decide([p for r in results for p in r.parts], alpha)
    out, i = [], 0
    for r in results:
        parts, i = flat[i : i + len(r.parts)], i + len(r.parts)
        out.append(r._replace(parts=tuple(parts), verdict=combine(parts), reason=reason(parts)))
    return out
