"""Structured files read against a schema: one check for every kind of file the project
reads (the claims plan, the results records, a bundle's manifest). The schema is JSON
Schema, checked by the `jsonschema` library (declarative, well kept, and its errors carry
the path to the value at fault); the error names the file, the key and the value."""

from __future__ import annotations

from typing import Any

from jaxd2l.checks.errors import UserError


def validate(value: Any, schema: dict[str, Any], where: str) -> None:
    """Refuse `value` (read from the file `where`) unless it fits `schema`, naming the key
    path and what is wrong with its value."""
    import jsonschema

    errors = jsonschema.Draft202012Validator(schema).iter_errors(value)
    error = jsonschema.exceptions.best_match(errors)
    if error is not None:
        key = "".join(f"[{p!r}]" for p in error.absolute_path) or "the top level"
        raise UserError(f"{where}: {key}: {error.message}")


def unique(values: list[Any], what: str, where: str) -> None:
    """Refuse a value that appears twice (a key that names one entry)."""
    twice = sorted({v for v in values if values.count(v) > 1}, key=str)
    if twice:
        raise UserError(f"{where}: {what} {twice[0]!r} appears twice")
