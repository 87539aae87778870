"""Concise models (d2l 3.5, 3.7, 4.3) as flax Linen modules, each returned as a `Model`.

Research code never sees a module object: `pure(module, input_shape)` gives a
`Model(init, apply)`, the same contract as the from-scratch models.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import flax
import flax.linen as nn
import jax.numpy as jnp

from jaxd2l.core import checks
from jaxd2l.core.errors import ArgumentError
from jaxd2l.core.model import Model
from jaxd2l.models import init as inits


class LinearRegression(nn.Module):
    """d2l 3.5: one Dense(1) layer, weights N(0, 0.01), bias 0; output [B]."""

    @nn.compact
    def __call__(self, X):
        return nn.Dense(1, kernel_init=nn.initializers.normal(0.01))(X)[:, 0]


class MLP(nn.Module):
    """Flatten, then Dense layers with `activation` between them (d2l 3.7 with no hidden
    layer is softmax regression; d2l 4.3 with hidden sizes is the concise MLP)."""

    hidden: Sequence[int] = ()
    num_outputs: int = 10
    activation: Callable = nn.relu
    kernel_init: Callable = nn.initializers.normal(0.01)
    dropout: Sequence[float] = ()  # a rate per hidden layer (d2l 4.6), training only
    prelu: bool = False  # flax's nn.PReLU (a learnable slope per layer) instead of activation

    @nn.compact
    def __call__(self, X, deterministic: bool = True):
        X = X.reshape(X.shape[0], -1)
        for i, width in enumerate(self.hidden):
            X = nn.Dense(width, kernel_init=self.kernel_init)(X)
            X = nn.PReLU(negative_slope_init=0.25)(X) if self.prelu else self.activation(X)
            if i < len(self.dropout) and self.dropout[i] > 0:
                X = nn.Dropout(self.dropout[i])(X, deterministic=deterministic)
        return nn.Dense(self.num_outputs, kernel_init=self.kernel_init)(X)


# The argument by which a Linen module learns whether it trains, and its value when it does.
MODE_FLAGS = {"deterministic": False, "train": True, "training": True}


def mode_flag(module: nn.Module) -> str | None:
    """Which of `deterministic`, `train`, `training` the module's `__call__` takes, if any."""
    parameters = inspect.signature(module.__call__).parameters
    return next((name for name in MODE_FLAGS if name in parameters), None)


def pure(module: nn.Module, input_shape: Sequence[int]) -> Model:
    """`Model(init, apply)` for a Linen module taking inputs of `input_shape` (one example,
    no batch axis).

    `apply(params, X, *, key=None)` passes `key` as the module's "dropout" stream and tells
    the module whether it trains through whichever argument it takes: `deterministic=key
    is None` (flax's `nn.Dropout` convention), or `train=` / `training=key is not None`
    (flax's examples), so evaluation never drops units.

    Raises:
      ValueError: (from `init`) the module draws dropout but takes none of those
        arguments, so evaluation could not turn it off.
    """
    example = jnp.zeros((1, *input_shape))
    flag = mode_flag(module)

    def mode(training: bool) -> dict:
        if flag is None:
            return {}
        return {flag: training if MODE_FLAGS[flag] else not training}

    def init(key):
        checks.key(key)
        params = module.init(key, example, **mode(False))["params"]
        if flag is None:  # evaluation must be deterministic: a probe without a dropout key
            try:
                module.apply({"params": params}, example)
            except flax.errors.InvalidRngError:
                raise ArgumentError(
                    f"{type(module).__name__} draws dropout but its __call__ takes none of "
                    f"{', '.join(MODE_FLAGS)}: add `deterministic: bool` (or `train`) and pass "
                    "it to nn.Dropout, so evaluation can turn dropout off"
                ) from None
        return params

    def apply(params, X, *, key=None):
        if flag is None:
            return module.apply({"params": params}, X)
        rngs = {"dropout": key} if key is not None else None
        return module.apply({"params": params}, X, **mode(key is not None), rngs=rngs)

    return Model(init, apply)


def mlp_params(layers: Sequence[dict]) -> dict:
    """`mlp.init`-shaped layers ({"W", "b"} each) as the concise MLP's params, e.g. to fine-tune
    pre-trained layers (`models.pretrain`) with flax."""
    return {
        f"Dense_{i}": {"kernel": layer["W"], "bias": layer["b"]} for i, layer in enumerate(layers)
    }


def linear_regression(num_inputs: int) -> Model:
    """d2l 3.5's concise linear regression."""
    checks.integer(num_inputs, "num_inputs", minimum=1)
    return pure(LinearRegression(), (num_inputs,))


def softmax_regression(input_shape: Sequence[int] = (28, 28, 1), num_outputs: int = 10) -> Model:
    """d2l 3.7's concise softmax regression (flatten + Dense)."""
    checks.integer(num_outputs, "num_outputs", minimum=1)
    return pure(MLP((), num_outputs), tuple(input_shape))


def mlp(
    input_shape: Sequence[int],
    hidden: Sequence[int],
    num_outputs: int = 10,
    scheme: str = "normal",
    sigma: float = 0.01,
    activation: Callable | str = nn.relu,
    dropout: Sequence[float] = (),
) -> Model:
    """The concise MLP with any init scheme of `models.init` (as a flax initializer) and
    flax's `nn.Dropout` at `dropout[i]` after hidden layer i (its key from `apply`'s)."""
    from jaxd2l.models.mlp import check_dropout

    hidden = checks.widths(hidden, "hidden", minimum_count=0)
    checks.integer(num_outputs, "num_outputs", minimum=1)
    dropout = check_dropout(dropout, len(hidden))
    initializer = inits.flax_initializer(scheme, sigma)
    prelu = activation == "prelu"  # flax's nn.PReLU, a learnable slope per hidden layer
    activation = nn.relu if prelu else activation
    module = MLP(tuple(hidden), num_outputs, activation, initializer, dropout, prelu)
    return pure(module, tuple(input_shape))
