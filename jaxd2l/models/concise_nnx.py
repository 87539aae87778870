"""The concise chapters (d2l 3.5, 3.7, 4.3, 4.6) in Flax NNX, as flax now teaches them:
modules that hold their layers as attributes and take `rngs`, each returned as a `Model`
through `models.nnx.pure` (`--impl nnx` of the experiments).

The layers are named `dense_0, dense_1, ...` (`dense` for linear regression), so the
scratch layers map onto them one to one (`mlp_params`, `to_scratch`): from the same
initial parameters the scratch, Linen and NNX runs give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
from flax import nnx

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentTypeError
from jaxd2l.core.step import Model
from jaxd2l.models import init as inits
from jaxd2l.models.nnx import pure


class LinearRegression(nnx.Module):
    """d2l 3.5: one Linear(1) layer, weights N(0, 0.01), bias 0; output [B]."""

    def __init__(self, num_inputs: int, *, rngs: nnx.Rngs):
        init = nnx.initializers.normal(0.01)
        self.dense = nnx.Linear(num_inputs, 1, kernel_init=init, rngs=rngs)

    def __call__(self, X):
        return self.dense(X)[:, 0]


class MLP(nnx.Module):
    """Flatten, then Linear layers with `activation` between them and `nnx.Dropout` at
    `dropout[i]` after hidden layer i (d2l 3.7 with no hidden layer, 4.3, 4.6)."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: Callable,
        kernel_init: Callable,
        dropout: Sequence[float],
        *,
        rngs: nnx.Rngs,
    ):
        self.activation, self.depth = activation, len(sizes) - 1
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            setattr(self, f"dense_{i}", nnx.Linear(n_in, n_out, kernel_init=kernel_init, rngs=rngs))
        self.rates = tuple(dropout)
        for i, rate in enumerate(self.rates):
            setattr(self, f"dropout_{i}", nnx.Dropout(rate, rngs=rngs))

    def __call__(self, X):
        X = X.reshape(X.shape[0], -1)
        for i in range(self.depth - 1):
            X = self.activation(getattr(self, f"dense_{i}")(X))
            if i < len(self.rates) and self.rates[i] > 0:
                X = getattr(self, f"dropout_{i}")(X)
        return getattr(self, f"dense_{self.depth - 1}")(X)


def linear_regression(num_inputs: int) -> Model:
    """d2l 3.5's concise linear regression, in NNX."""
    checks.integer(num_inputs, "num_inputs", minimum=1)
    return pure(lambda rngs: LinearRegression(num_inputs, rngs=rngs), (num_inputs,))


def mlp(
    input_shape: Sequence[int],
    hidden: Sequence[int],
    num_outputs: int = 10,
    scheme: str = "normal",
    sigma: float = 0.01,
    activation: Callable = jax.nn.relu,
    dropout: Sequence[float] = (),
) -> Model:
    """The concise MLP in NNX, any init scheme of `models.init` (as a flax initializer)."""
    from jaxd2l.models.mlp import check_architecture

    hidden, dropout = check_architecture(hidden, num_outputs, dropout)
    if not callable(activation):
        raise ArgumentTypeError(f"activation must be a function for --impl nnx, got {activation!r}")
    sizes = (int(jax.numpy.prod(jax.numpy.asarray(input_shape))), *hidden, num_outputs)
    kernel_init = inits.flax_initializer(scheme, sigma)
    return pure(lambda rngs: MLP(sizes, activation, kernel_init, dropout, rngs=rngs), input_shape)


def softmax_regression(input_shape: Sequence[int] = (28, 28, 1), num_outputs: int = 10) -> Model:
    """d2l 3.7's concise softmax regression in NNX (flatten + Linear)."""
    return mlp(input_shape, (), num_outputs)


def mlp_params(layers: Sequence[dict]) -> dict:
    """`mlp.init`-shaped layers ({"W", "b"} each) as the NNX MLP's params."""
    return {
        f"dense_{i}": {"kernel": layer["W"], "bias": layer["b"]} for i, layer in enumerate(layers)
    }


def to_scratch(params: dict[str, Any]) -> Any:
    """The NNX params in the scratch layout: linear regression's {"w", "b"}, or the MLP's
    list of {"W", "b"} (softmax regression: one layer)."""
    if "dense" in params:
        return {"w": params["dense"]["kernel"][:, 0], "b": params["dense"]["bias"][0]}
    return [
        {"W": params[f"dense_{i}"]["kernel"], "b": params[f"dense_{i}"]["bias"]}
        for i in range(len(params))
    ]
