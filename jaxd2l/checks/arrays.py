"""Array arguments checked at a public function's boundary, by declaration: one place for the
classes of wrong input a caller brings (not an array, the wrong rank or dtype, one example
short, a label outside the classes, weights that are negative or all zero).

    @takes(logits=array(ndim=2, kind="float"), y=array(labels_of="logits"))
    def cross_entropy(logits, y): ...

Shapes and dtypes are checked on every call, traced or not; values (ranges, NaN and inf,
sums) when concrete, read once on the host. Every error is the library's own and names the
argument, and its partner where two must agree.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError

KINDS = {"real": "real numbers", "float": "floating-point numbers", "int": "integers"}


@dataclasses.dataclass(frozen=True)
class _Spec:
    """One array argument's contract (made by `array`, whose Args say what each means)."""

    ndim: tuple[int, ...] | None = None
    kind: str = "real"
    rows_of: str | None = None
    labels_of: str | None = None
    size_of: str | None = None
    entries_of: str | None = None
    classes_of: str | None = None
    trailing_of: str | None = None
    low: float | None = None
    high: float | None = None
    above: float | None = None
    values: tuple[float, ...] | None = None
    probabilities: bool = False
    not_all_zero: bool = False
    square: bool = False
    optional: bool = False


def array(ndim: int | tuple[int, ...] | None = None, kind: str = "real", **contract: Any) -> _Spec:
    """One array argument's contract.

    Args:
      ndim: the rank (or ranks) it may have.
      kind: "real" (no complex, strings or objects), "float" or "int".
      **contract: any of
        `rows_of`: another array argument whose leading length it must share;
        `labels_of`: class ids in [0, K), K that argument's last axis (or it, an int);
        `size_of`: as many values as that argument ([B] against [B, 1]), or a scalar;
        `entries_of`: its last axis holds one value per row of that argument (weights);
        `classes_of`: shape [K], K that argument's last axis (priors against probabilities);
        `trailing_of`: the shape of that argument after the leading axis;
        `low`, `high`: the least and most a value may be (inclusive; finite then);
        `above`: every value must be greater (a divisor: `above=0`);
        `values`: the only values it may hold (the perceptron's +1 and -1);
        `probabilities`: in [0, 1], each row summing to 1;
        `not_all_zero`: some value in each row non-zero (weights, priors);
        `square`: a square matrix (a confusion matrix);
        `optional`: None is allowed.
    """
    return _Spec((ndim,) if isinstance(ndim, int) else ndim, kind, **contract)


def takes(**specs: _Spec) -> Callable:
    """Decorate a public function: its named array arguments are checked against `specs`
    before it runs (shapes and dtypes always, values when concrete)."""

    def wrap(fn: Callable) -> Callable:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as e:
                raise ArgumentTypeError(f"{fn.__name__}: {e}") from None
            bound.apply_defaults()
            check_arrays(bound.arguments, specs)
            return fn(*bound.args, **bound.kwargs)

        return checked

    return wrap


def check_arrays(arguments: dict[str, Any], specs: dict[str, _Spec]) -> None:
    """Check `arguments` (by name) against `specs`: each alone, then against its partners,
    then (when concrete) its values."""
    present = {}
    for name, spec in specs.items():
        value = arguments.get(name)
        if value is None and spec.optional:
            continue
        present[name] = _alone(value, name, spec)
    for name, value in present.items():
        _partners(name, value, specs[name], arguments, present)
    for name, value in present.items():
        _values(name, value, specs[name], arguments, present)


def _alone(value: Any, name: str, spec: _Spec) -> Any:
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is None or dtype is None:
        if isinstance(value, (list, tuple, int, float)) and not isinstance(value, bool):
            value = np.asarray(value)
        else:
            raise ArgumentTypeError(f"`{name}` must be an array, got {type(value).__name__}")
    dtype = np.dtype(value.dtype) if not _is_key(value) else None
    if dtype is None or dtype.kind not in "biuf":
        raise ArgumentTypeError(f"`{name}` must hold {KINDS[spec.kind]}, got dtype {value.dtype}")
    want = "int" if spec.labels_of is not None else spec.kind
    if want == "int" and dtype.kind not in "iu":
        whole = _concrete(value) and bool(np.all(np.mod(np.asarray(value), 1) == 0))
        fix = f"{name}.argmax(-1)" if len(value.shape) == 2 else f"{name}.astype(jnp.int32)"
        if len(value.shape) == 1 and not whole:  # fractions: probabilities, or their mean
            fix = "each example's class id (outputs.argmax(-1)), not probabilities or a mean"
        raise ArgumentTypeError(
            f"`{name}` must hold integer class ids, got dtype {dtype} of shape "
            f"{tuple(value.shape)}: pass {fix}"
        )
    if want == "float" and dtype.kind != "f":
        raise ArgumentTypeError(
            f"`{name}` must hold floating-point numbers, got dtype {dtype}: cast with "
            f"{name}.astype(jnp.float32)"
        )
    ndim = len(value.shape)
    if spec.ndim is not None and ndim not in spec.ndim:
        said = " or ".join(f"{n}-D" for n in spec.ndim)
        hint = f": pass {name}[:, 0]" if 1 in spec.ndim and value.shape[1:] == (1,) else ""
        raise ArgumentError(f"`{name}` must be {said}, got shape {tuple(value.shape)}{hint}")
    if ndim and value.shape[0] == 0:
        raise ArgumentError(f"`{name}` is empty (shape {tuple(value.shape)})")
    if spec.square and (ndim != 2 or value.shape[0] != value.shape[1]):
        raise ArgumentError(f"`{name}` must be a square matrix, got shape {tuple(value.shape)}")
    return value


def _is_key(value: Any) -> bool:
    return jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key)


def _leading(value: Any) -> int | None:
    return value.shape[0] if len(value.shape) else None


def _partners(name: str, value: Any, spec: _Spec, arguments: dict, present: dict) -> None:
    def other(partner: str) -> Any:
        return present.get(partner, arguments.get(partner))

    shape = tuple(value.shape)
    if spec.rows_of and other(spec.rows_of) is not None:
        rows = _leading(other(spec.rows_of))
        if _leading(value) != rows:
            raise ArgumentError(
                f"`{name}` must have one entry per row of `{spec.rows_of}` ({rows}), got "
                f"shape {shape}"
            )
    if spec.size_of and other(spec.size_of) is not None:
        size = int(np.prod(other(spec.size_of).shape))
        if shape and int(np.prod(shape)) != size:  # a scalar broadcasts (residuals against 0)
            raise ArgumentError(
                f"`{name}` must hold one value per prediction of `{spec.size_of}` ({size}), "
                f"got shape {shape}"
            )
    if spec.entries_of and other(spec.entries_of) is not None:
        rows = _leading(other(spec.entries_of))
        if not shape or shape[-1] != rows:
            raise ArgumentError(
                f"`{name}` must have one entry per row of `{spec.entries_of}` ({rows}) on "
                f"its last axis, got shape {shape}"
            )
    if spec.classes_of and other(spec.classes_of) is not None:
        k = other(spec.classes_of).shape[-1]
        if shape != (k,):
            raise ArgumentError(
                f"`{name}` must have shape ({k},), one per class of `{spec.classes_of}`, got "
                f"{shape}"
            )
    if spec.trailing_of and other(spec.trailing_of) is not None:
        trailing = tuple(other(spec.trailing_of).shape[1:])
        if shape[1:] != trailing:
            raise ArgumentError(
                f"`{name}` must have the shape of `{spec.trailing_of}` after the first axis "
                f"({trailing}), got {shape}"
            )


def _concrete(*values: Any) -> bool:
    return not any(isinstance(v, jax.core.Tracer) for v in values)


def _values(name: str, value: Any, spec: _Spec, arguments: dict, present: dict) -> None:
    inexact = jax.dtypes.issubdtype(np.dtype(value.dtype), np.inexact)
    checks_values = spec.labels_of or spec.low is not None or spec.high is not None
    checks_values = checks_values or spec.values or spec.probabilities or spec.not_all_zero
    checks_values = checks_values or spec.above is not None or inexact
    if not checks_values or not _concrete(value) or not value.size:
        return
    host = np.asarray(jax.device_get(value))
    if inexact and not np.isfinite(host).all():  # traced values keep the divergence rule
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(host))[0])
        raise ArgumentError(
            f"`{name}` holds NaN or infinite values (the first at index {where}: "
            f"{host[where]}): a diverged model's outputs? check what produced them"
        )
    if spec.labels_of:
        partner = present.get(spec.labels_of, arguments.get(spec.labels_of))
        k = partner if isinstance(partner, int) else partner.shape[-1]
        lo, hi = int(host.min()), int(host.max())
        if lo < 0 or hi >= k:
            raise ArgumentError(
                f"`{name}` must hold class ids in [0, {k}) (`{spec.labels_of}` has {k} "
                f"classes), got values in [{lo}, {hi}]"
            )
    bounded = spec.low is not None or spec.high is not None or spec.probabilities
    bounded = bounded or spec.above is not None
    if bounded and not np.isfinite(host).all():
        raise ArgumentError(f"`{name}` holds NaN or infinite values")
    if spec.probabilities:
        sums = host.sum(axis=-1) if host.ndim else host
        if host.min() < 0 or host.max() > 1 or not np.allclose(sums, 1.0, atol=1e-3):
            raise ArgumentError(
                f"`{name}` must be probabilities (in [0, 1], each row summing to 1), got "
                f"values in [{host.min():.3g}, {host.max():.3g}]: pass softmax(logits), not "
                "logits"
            )
    if spec.low is not None and host.min() < spec.low:
        raise ArgumentError(f"`{name}` must be >= {spec.low:g}, got a minimum of {host.min():g}")
    if spec.high is not None and host.max() > spec.high:
        raise ArgumentError(f"`{name}` must be <= {spec.high:g}, got a maximum of {host.max():g}")
    if spec.above is not None and not host.min() > spec.above:
        raise ArgumentError(
            f"`{name}` must be > {spec.above:g} (it divides), got a minimum of {host.min():g}"
        )
    if spec.values is not None and not np.isin(host, spec.values).all():
        allowed = ", ".join(f"{v:g}" for v in spec.values)
        raise ArgumentError(f"`{name}` must hold only {allowed}, got {np.unique(host)[:5]}")
    if spec.not_all_zero and not (host != 0).any(axis=-1).all():
        raise ArgumentError(f"`{name}` is all zero" + (" in a row" if host.ndim > 1 else ""))
