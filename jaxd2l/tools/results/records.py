"""Reading `results/`: every record whole, or one line naming the one that is not."""

from __future__ import annotations

import glob
import json
import os

from jaxd2l.checks.errors import UserError
from jaxd2l.tools.results.make import RESULTS


def load(folder: str = RESULTS) -> dict[str, dict]:
    """Every record in `folder`, by name."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            with open(path) as fh:
                payload = json.load(fh)
            out[payload["name"]] = payload
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError(
                f"{path} is not a whole record ({type(e).__name__}: {str(e)[:120]}): remake it "
                f"with `make results NAMES={name}` (nothing was rewritten)"
            ) from None
    return out
