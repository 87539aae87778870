"""Calls a public function cannot bind (an unknown or a missing argument) told as the
library's own TypeError in one line: what the function takes, and where an argument people
bring from other trainers goes here."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from jaxd2l.checks.errors import ArgumentTypeError


def named(**hints: str) -> Callable:
    """Decorate a public function so a call it cannot bind (an unknown or missing argument)
    is the library's own TypeError in one line listing what it takes, with `hints[name]`
    for a name people bring from elsewhere (`callbacks=` -> where hooks go)."""

    def wrap(fn: Callable) -> Callable:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as e:
                said = str(e).replace(f"{fn.__name__}() ", "")
                hint = next((hints[k] for k in kwargs if k in hints), None)
                takes = ", ".join(signature.parameters)
                raise ArgumentTypeError(
                    f"{fn.__name__}: {said}; it takes ({takes})" + (f": {hint}" if hint else "")
                ) from None
            return fn(*args, **kwargs)

        return checked

    return wrap
