"""The claims report's plan (`experiments/claims_plan.toml`, committed before the runs): per
claim the note's words, the primary endpoint, the setting, the seeds from a power
calculation on a pilot, and every part with its test and its threshold, margin or
tolerance. A report cites the file's sha256 and refuses a claim whose parts differ from
the plan; the seeds the plan records can be re-derived from its pilot numbers."""

from __future__ import annotations

import hashlib
from typing import Any

import tomllib

from jaxd2l.chapters.claims.result import ClaimResult
from jaxd2l.chapters.claims.verdicts import Part
from jaxd2l.checks import schema
from jaxd2l.checks.errors import UserError

NUMBER, TEXT = {"type": "number"}, {"type": "string"}
PART = {
    "type": "object",
    "required": ["name", "test", "target", "primary"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "test": {"enum": ["direction", "equivalence", "exact"]},
        "target": NUMBER,
        "primary": {"type": "boolean"},
        "predicted": {"enum": [-1, 1]},
        "pilot_mean": NUMBER,
        "pilot_sd": {"type": "number", "minimum": 0},
        "pilot_seeds": {"type": "integer", "minimum": 2},
        "seeds_needed": {"type": "integer", "minimum": 1},
    },
}
CLAIM = {
    "type": "object",
    "required": ["number", "name", "note_en", "seeds", "part"],
    "additionalProperties": False,
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "seeds": {"type": "integer", "minimum": 2, "maximum": 1000},
        "part": {"type": "array", "minItems": 1, "items": PART},
        **dict.fromkeys(("note_en", "note_zh", "primary_endpoint", "setting", "answers"), TEXT),
    },
}
SCHEMA = {
    "type": "object",
    "required": ["alpha", "power", "max_seeds", "claim"],
    "properties": {
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "power": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "max_seeds": {"type": "integer", "minimum": 2},
        "pilot": TEXT,
        "claim": {"type": "array", "minItems": 1, "items": CLAIM},
    },
}
"""The plan file's schema (`checks.schema`): types, ranges and known names; unique claim
names and numbers are checked after it."""


def load_plan(path: str) -> dict[str, Any]:
    """The plan as a dict, with its `sha256` and `path`, claims by name under `claims`.

    Raises:
      UserError: a file that cannot be read, or that breaks the schema (naming the file, the
        key and the value), or that names a claim (or numbers one) twice.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        plan = tomllib.loads(raw.decode())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UserError(f"cannot read the claims plan {path}: {e}") from None
    schema.validate(plan, SCHEMA, f"the claims plan {path}")
    for key in ("name", "number"):
        schema.unique([c[key] for c in plan["claim"]], f"claim {key}", f"the claims plan {path}")
    plan["sha256"], plan["path"] = hashlib.sha256(raw).hexdigest(), path
    plan["claims"] = {c["name"]: c for c in plan["claim"]}
    return plan


def planned(part: dict[str, Any]) -> tuple:
    """What makes a part's rule: name, test, target, predicted side, primary."""
    predicted = int(part.get("predicted", 0)) if part["test"] == "direction" else 0
    return part["name"], part["test"], float(part["target"]), predicted, bool(part["primary"])


def ruled(part: Part) -> tuple:
    """The same for a measured part."""
    return part.name, part.test, float(part.target), int(part.predicted), bool(part.primary)


def check_against_plan(result: ClaimResult, plan: dict[str, Any], subset: bool = False) -> None:
    """Refuse (UserError, naming the difference) a claim whose parts are not the plan's
    (`subset`: a smoke run may measure fewer parts, each as planned)."""
    entry = plan["claims"].get(result.name)
    if entry is None:
        raise UserError(f"claim {result.name} is not in the plan {plan['path']}: add it first")
    want = [planned(p) for p in entry.get("part", [])]
    got = [ruled(p) for p in result.parts]
    if (not set(got) <= set(want)) if subset else want != got:
        missing = [w for w in want if w not in got]
        extra = [g for g in got if g not in want]
        raise UserError(
            f"claim {result.name}'s rules differ from the plan {plan['path']}: the plan has "
            f"{missing or 'nothing else'}, the code {extra or 'nothing else'}; change the plan "
            "(before the run, committed) or the code, not the verdict"
        )


def seeds_of(plan: dict[str, Any], name: str) -> int:
    """The seeds the plan sets for claim `name` (a name it lacks refused, listing its own)."""
    if name not in plan["claims"]:
        raise UserError(
            f"the claims plan {plan['path']} has no claim {name!r}: it has "
            f"{', '.join(sorted(plan['claims']))}"
        )
    return int(plan["claims"][name]["seeds"])
