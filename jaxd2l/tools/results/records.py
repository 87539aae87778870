"""Reading `results/`: every record whole, or one line naming the one that is not."""

from __future__ import annotations

import glob
import json
import os

from jaxd2l.checks import schema
from jaxd2l.checks.errors import UserError
from jaxd2l.tools.results.make import RESULTS

TEXT = {"type": "string", "minLength": 1}
SCHEMA = {
    "type": "object",
    "required": ["name", "module", "provenance", "record"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "module": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "section": {"type": "string"},
        "summary": {"type": "string"},
        "wall_s": {"type": "number", "minimum": 0},
        "record": {"type": "object"},
        "provenance": {
            "type": "object",
            "required": ["command", "commit", "date"],
            "properties": {"command": TEXT, "date": TEXT, "commit": {"type": ["string", "null"]}},
        },
    },
}
"""What every record holds (`checks.schema`); a record's measured part is its experiment's."""


def load(folder: str = RESULTS) -> dict[str, dict]:
    """Every record in `folder`, by name, each read against `SCHEMA`; a record whose name is
    not its file's refused (two files could then give one name)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        fix = f"remake it with `make results NAMES={name}` (nothing was rewritten)"
        try:
            with open(path) as fh:
                payload = json.load(fh)
        except (OSError, ValueError) as e:
            raise UserError(
                f"{path} is not a whole record ({type(e).__name__}: {str(e)[:120]}): {fix}"
            ) from None
        try:
            schema.validate(payload, SCHEMA, f"the record {path}")
            if payload["name"] != name:
                raise UserError(f"the record {path}: ['name']: {payload['name']!r} is not {name!r}")
        except UserError as e:
            raise UserError(f"{e}; {fix}") from None
        out[name] = payload
    return out
