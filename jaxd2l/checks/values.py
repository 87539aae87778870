"""Argument checks at the library's public boundary: once per call, before anything is traced.
Each raises `ValueError` or `TypeError` naming the argument, what was expected and what came,
so a caller's mistake never turns into wrong numbers or an error from deep inside jax.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
import optax

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError


def is_key(key: Any) -> bool:
    """A typed PRNG key array (`jax.random.key`) or a legacy raw key (uint32 [2])."""
    dtype = getattr(key, "dtype", None)
    if dtype is None:
        return False
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return True
    return dtype == np.uint32 and getattr(key, "shape", (None,))[-1:] == (2,)


def key(value: Any, name: str = "key") -> None:
    """One PRNG key: not an int seed, not a batch of keys."""
    if not is_key(value):
        raise ArgumentTypeError(
            f"{name} must be a PRNG key from jax.random.key(seed), got "
            f"{type(value).__name__}{_shape_of(value)}"
        )
    if jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key) and value.shape != ():
        raise ArgumentError(
            f"{name} must be one PRNG key (shape ()), got keys of shape {value.shape}: pass "
            "keys[0], or vmap over the keys"
        )


MAX_SIZE = 2**31 - 1  # an array dimension XLA indexes with 32 bits at most here


def integer(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """A Python or numpy integer (not a bool, not a float such as 256.0) in
    [`minimum`, `maximum`]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ArgumentError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def size(value: Any, name: str) -> int:
    """A width or count that becomes an array dimension: an integer from 1 to MAX_SIZE."""
    return integer(value, name, minimum=1, maximum=MAX_SIZE)


MAX_EPOCHS = 2**31 - 1  # epoch e's key is fold_in(key, e): e must fit in 32 bits


def epochs(value: Any, name: str = "epochs") -> int:
    """A number of epochs: an integer from 1 to 2**31 - 1 (each epoch's key folds in its
    index as a 32-bit value)."""
    value = integer(value, name, minimum=1)
    if value > MAX_EPOCHS:
        raise ArgumentError(
            f"{name} must be at most {MAX_EPOCHS} (each epoch's key folds in its index as a "
            f"32-bit value), got {value}"
        )
    return value


def learning_rate(value: Any, name: str = "learning_rate") -> float:
    """A finite number > 0 (an optax schedule, a callable, is passed through unchecked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ArgumentError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def fraction(value: Any, name: str) -> float:
    """A number in [0, 1), such as a label-smoothing weight."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number in [0, 1), got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ArgumentError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def widths(values: Any, name: str, minimum_count: int = 1) -> tuple[int, ...]:
    """A sequence of positive integer layer widths."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ArgumentTypeError(f"{name} must be a sequence of positive ints, got {values!r}")
    if len(values) < minimum_count:
        raise ArgumentError(f"{name} must list at least {minimum_count} widths, got {values!r}")
    for i, v in enumerate(values):
        size(v, f"{name}[{i}]")
    return tuple(int(v) for v in values)


def choice(value: Any, options: tuple[str, ...], name: str) -> str:
    """`value` if it is one of `options`, else a ValueError listing them."""
    if not isinstance(value, str) or value not in options:
        raise ArgumentError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return value


def optimizer(tx: Any, name: str = "tx") -> None:
    """An optax `GradientTransformation` (d2l's SGD is one: `jaxd2l.sgd`)."""
    if not isinstance(tx, optax.GradientTransformation):
        raise ArgumentTypeError(
            f"{name} must be an optax.GradientTransformation such as optax.sgd(0.1) or "
            f"jaxd2l.sgd(0.1), got {type(tx).__name__}"
        )


def callable_(value: Any, name: str) -> None:
    if not callable(value):
        raise ArgumentTypeError(f"{name} must be a function, got {type(value).__name__}")


def features(X: Any, name: str = "X", ndim: int | None = None, min_ndim: int = 2) -> None:
    """A batch of inputs: an array with a leading batch axis (and a fixed rank if given)."""
    shape = getattr(X, "shape", None)
    if shape is None:
        raise ArgumentTypeError(f"{name} must be an array, got {type(X).__name__}")
    if ndim is not None and len(shape) != ndim:
        raise ArgumentError(
            f"{name} must have rank {ndim} ([batch, ...]), got shape {tuple(shape)}"
        )
    if len(shape) < min_ndim:
        raise ArgumentError(
            f"{name} must have a leading batch axis (rank >= {min_ndim}), got shape "
            f"{tuple(shape)}: for one example use {name}[None]"
        )


def dataset(X: Any, y: Any, name: str = "train") -> None:
    """(X, y) that belong together: arrays of equal length, not empty, y one value per
    example, X finite. Values are read once here (on the host), never per step."""
    for part, value in (("X", X), ("y", y)):
        if getattr(value, "shape", None) is None:
            raise ArgumentTypeError(f"{name}: {part} must be an array, got {type(value).__name__}")
        if np.dtype(value.dtype).kind not in "biuf":
            raise ArgumentTypeError(f"{name}: {part} must hold real numbers, got {value.dtype}")
    if X.ndim < 1 or X.shape[0] == 0:
        raise ArgumentError(
            f"{name}: X is empty (shape {tuple(X.shape)}): there is nothing to train on"
        )
    if y.ndim < 1 or y.shape[0] != X.shape[0]:
        raise ArgumentError(
            f"{name}: X has {X.shape[0]} examples but y has "
            f"{y.shape[0] if y.ndim else 'a scalar'}: they must have the same length"
        )
    if y.ndim != 1:
        raise ArgumentError(
            f"{name}: y must hold one target per example (shape [{X.shape[0]}]), got shape "
            f"{tuple(y.shape)}" + (": one-hot labels? pass y.argmax(-1)" if y.ndim == 2 else "")
        )
    if jax.dtypes.issubdtype(X.dtype, np.inexact) and not bool(np.isfinite(_host(X)).all()):
        raise ArgumentError(f"{name}: X holds NaN or infinite values")
    if jax.dtypes.issubdtype(y.dtype, np.inexact) and not bool(np.isfinite(_host(y)).all()):
        raise ArgumentError(f"{name}: y holds NaN or infinite values")


def class_labels(y: Any, num_classes: int, name: str = "y") -> None:
    """Integer class ids in [0, num_classes)."""
    if not jax.dtypes.issubdtype(y.dtype, np.integer):
        raise ArgumentTypeError(
            f"{name} must hold integer class ids in [0, {num_classes}), got dtype {y.dtype}: "
            "cast with y.astype(jnp.int32)"
        )
    values = _host(y)
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi >= num_classes:
        raise ArgumentError(
            f"{name} must hold class ids in [0, {num_classes}) for a model with {num_classes} "
            f"outputs, got values in [{lo}, {hi}]"
        )


def _host(x: Any) -> np.ndarray:
    return np.asarray(jax.device_get(x))


def _shape_of(value: Any) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    return f" of shape {tuple(shape)} and dtype {dtype}" if shape is not None else f" {value!r}"


def weights_shape(weights: Any, num_examples: int, name: str = "weights") -> None:
    """Example weights are one number per example ([N]); checked while tracing too."""
    shape = tuple(np.shape(weights)) if not hasattr(weights, "shape") else tuple(weights.shape)
    if shape != (num_examples,):
        hint = ""
        if len(shape) == 2 and shape[1] == num_examples:
            hint = (
                f": {shape[0]} rows of weights (K folds?) train as {shape[0]} runs: "
                "jax.vmap the run over the rows (make_train's train, in_axes 0 for weights)"
            )
        raise ArgumentError(
            f"{name} must have shape ({num_examples},), one per example, got {shape}{hint}"
        )


def example_weights(weights: Any, num_examples: int, name: str = "weights") -> Any:
    """Example weights checked once at a public boundary: shape [N], and when the values are
    known (not traced) finite, >= 0 and not all zero. Returns them as float32."""
    import jax.numpy as jnp

    weights_shape(weights, num_examples, name)
    w = jnp.asarray(weights, jnp.float32)
    if isinstance(w, jax.core.Tracer):
        return w  # shapes only: the values exist when the program runs
    values = _host(w)
    if not np.isfinite(values).all():
        raise ArgumentError(f"{name} hold NaN or infinite values: weights must be finite")
    if (values < 0).any():
        raise ArgumentError(f"{name} hold negative values (min {values.min():g}): use >= 0")
    if not (values > 0).any():
        raise ArgumentError(
            f"{name} are all zero: no example would count (a fold's train weights are 1 "
            "outside the fold)"
        )
    return w
