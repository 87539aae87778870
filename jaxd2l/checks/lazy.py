"""Submodules as attributes, imported on first use, so `import jaxd2l as d2l` stays light and
`d2l.nn.regularization` works whatever was imported before."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType


def submodule_getattr(package: str, aliases: dict[str, str] | None = None) -> Callable:
    """A module-level `__getattr__` for `package`: `package.NAME` imports `package.NAME`
    (or `aliases[NAME]`, a full module path) the first time it is asked for."""
    aliases = aliases or {}

    def __getattr__(name: str) -> ModuleType:
        target = aliases.get(name, f"{package}.{name}")
        if name.startswith("_"):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as e:
            if e.name != target:
                raise  # the submodule exists but one of its own imports is missing
            from jaxd2l.checks.moved import missing

            raise missing(package, name) from None

    return __getattr__
