"""Concise models (d2l 3.5, 3.7, 4.3) as flax Linen modules, each returned as a `Model`.

Research code never sees a module object: `pure(module, input_shape)` gives a
`Model(init, apply)`, the same contract as the from-scratch models.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import flax
import flax.linen as nn
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.step import Model
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
INVERTED = ("determin", "infer", "eval")  # a flag spelled so that True means evaluation


def mode_flag(module: nn.Module) -> str | None:
    """Which of `deterministic`, `train`, `training` the module's `__call__` takes, if any."""
    parameters = inspect.signature(module.__call__).parameters
    return next((name for name in MODE_FLAGS if name in parameters), None)


def _switch(module: nn.Module, flag: str | None) -> Callable[[bool], tuple[nn.Module, dict]]:
    """training -> (the module to apply, the keyword arguments that tell it): `flag` is a
    `__call__` argument or a module field (then the module is cloned with it set)."""
    if flag is None:
        return lambda training: (module, {})
    trains = MODE_FLAGS.get(flag, not any(w in flag for w in INVERTED))
    fields = {f.name for f in dataclasses.fields(module)}
    if flag in fields:
        return lambda training: (module.clone(**{flag: training == trains}), {})
    if flag not in inspect.signature(module.__call__).parameters:
        raise ArgumentError(
            f"train_flag {flag!r} is neither an argument of {type(module).__name__}.__call__ "
            "nor a field of the module"
        )
    return lambda training: (module, {flag: training == trains})


def _dropout_calls(module: nn.Module, params: Any, X: Any, kwargs: dict, rngs: Any) -> list:
    """Apply once, observing every `nn.Dropout` with a rate above 0: whether it drew units
    (`deterministic` as it was resolved at the call)."""
    seen = []

    def observe(call, args, call_kwargs, context):
        layer = context.module
        if isinstance(layer, nn.Dropout) and context.method_name == "__call__" and layer.rate > 0:
            given = call_kwargs.get("deterministic", args[1] if len(args) > 1 else None)
            seen.append(bool(nn.merge_param("deterministic", layer.deterministic, given)))
        return call(*args, **call_kwargs)

    with nn.intercept_methods(observe):
        module.apply({"params": params}, X, **kwargs, rngs=rngs)
    return seen


def pure(module: nn.Module, input_shape: Sequence[int], *, train_flag: str | None = None) -> Model:
    """`Model(init, apply)` for a Linen module taking inputs of `input_shape` (one example,
    no batch axis).

    `apply(params, X, *, key=None)` passes `key` as the module's "dropout" stream and tells
    the module whether it trains through whichever argument it takes: `deterministic=key
    is None` (flax's `nn.Dropout` convention), or `train=` / `training=key is not None`
    (flax's examples), so evaluation never drops units. `train_flag` names another
    argument or a module field (`"is_training"`; True means training unless the name says
    deterministic, inference or eval).

    Whether the switch reaches the dropout is decided at `init` by observation, not by
    the spelling: the module is run once in each mode, and every `nn.Dropout` with a rate
    above 0 must draw units when training and none when evaluating.

    Raises:
      ValueError: (from `init`) the module draws dropout that the switch does not reach
        (evaluation would drop units, or training would not), naming `train_flag`.
    """
    example = jnp.zeros((1, *input_shape))
    switch = _switch(module, train_flag if train_flag is not None else mode_flag(module))
    name = type(module).__name__

    def init(key):
        checks.key(key)
        evaluating, off = switch(False)
        params = evaluating.init(key, example, **off)["params"]
        training, on = switch(True)
        try:  # evaluation must be deterministic: observed without a dropout key
            drew_in_eval = [not d for d in _dropout_calls(evaluating, params, example, off, None)]
        except flax.errors.InvalidRngError:
            drew_in_eval = [True]
        drew_in_training = [
            not d for d in _dropout_calls(training, params, example, on, {"dropout": key})
        ]
        if any(drew_in_eval) or (drew_in_training and not all(drew_in_training)):
            where = "evaluation draws dropout" if any(drew_in_eval) else "training draws none"
            raise ArgumentError(
                f"{name}'s dropout is not reached by the training switch ({where}): its "
                f"__call__ takes none of {', '.join(MODE_FLAGS)}; name the argument or field "
                "that turns dropout on with train_flag= (e.g. train_flag='is_training'), or "
                "pass `deterministic: bool` to nn.Dropout"
            )
        return params

    def apply(params, X, *, key=None):
        runs, kwargs = switch(key is not None)
        rngs = {"dropout": key} if key is not None else None
        return runs.apply({"params": params}, X, **kwargs, rngs=rngs)

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
    from jaxd2l.models.mlp import check_architecture

    hidden, dropout = check_architecture(hidden, num_outputs, dropout)
    initializer = inits.flax_initializer(scheme, sigma)
    prelu = activation == "prelu"  # flax's nn.PReLU, a learnable slope per hidden layer
    activation = nn.relu if prelu else activation
    module = MLP(tuple(hidden), num_outputs, activation, initializer, dropout, prelu)
    return pure(module, tuple(input_shape))
