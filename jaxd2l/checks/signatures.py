"""A function's contract, both ways. Calls a public function cannot bind (an unknown or a
missing argument) are the library's own TypeError in one line: what the function takes, and
where an argument people bring from other trainers goes. What a caller's own function
returns (a model's `apply`, `observe`, an evaluation) is checked once, at trace time, by
`jax.eval_shape`: the message names the function, what it returned and what is expected."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError


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


def name_of(fn: Any) -> str:
    """A function as a caller knows it: its qualified name (a lambda says where it is)."""
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}" if name == "<lambda>" and module else name


def shape_of(value: Any) -> str:
    """What came back, in a few words: an array's shape and dtype, a dict's keys, a type."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    return f"a {type(value).__name__}"


def output_of(fn: Callable, role: str, expected: str, *args: Any, **kwargs: Any) -> Any:
    """`jax.eval_shape(fn, *args, **kwargs)`: what `fn` returns, as shapes (no compute);
    a value that is not a pytree of arrays, or a call `fn` cannot take, refused naming
    `role` (e.g. "observe") and `fn`, with `expected`."""
    try:
        return jax.eval_shape(fn, *args, **kwargs)
    except TypeError as e:
        said = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ArgumentTypeError(
            f"{role} {name_of(fn)!r} must return {expected}: calling it with the run's "
            f"arguments failed ({said})"
        ) from None


def targets_fit_model(
    apply: Callable, params: Any, X: Any, y: Any, prepare: Callable | None, name: str
) -> None:
    """`apply` returns one array with a row per example, and y matches it: class ids for a
    classifier's [B, K] logits, one value per example for [B] outputs. Shapes come from
    `jax.eval_shape` (no compute)."""
    from jaxd2l.checks.values import class_labels

    example = X[:2] if prepare is None else jax.eval_shape(prepare, X[:2])
    try:
        out = jax.eval_shape(apply, params, example)
    except (TypeError, ValueError) as e:
        raise ArgumentError(
            f"{name}: the model {name_of(apply)!r} cannot take X of shape {tuple(X.shape)}: {e}"
        ) from e
    rows = example.shape[0]
    if not hasattr(out, "shape") or len(out.shape) < 1 or out.shape[0] != rows:
        raise ArgumentError(
            f"{name}: the model's apply {name_of(apply)!r} must return one array with a row "
            f"per example ([{rows}, ...] for {rows} examples), got {shape_of(out)}"
        )
    if len(out.shape) == 2 and out.shape[1] > 1:
        class_labels(y, out.shape[1], f"{name}: y")
