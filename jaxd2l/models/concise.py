"""Concise models (d2l 3.5, 3.7, 4.3) as flax Linen modules, returned as (params, apply).

Research code never sees a module object: `pure(module, key, example)` gives the params
pytree and a pure `apply(params, X)`, the same contract as the from-scratch models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxd2l import checks
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

    @nn.compact
    def __call__(self, X):
        X = X.reshape(X.shape[0], -1)
        for width in self.hidden:
            X = self.activation(nn.Dense(width, kernel_init=self.kernel_init)(X))
        return nn.Dense(self.num_outputs, kernel_init=self.kernel_init)(X)


def pure(module: nn.Module, key: jax.Array, example: jax.Array):
    """(params, apply) for a Linen module; `example` is a batch of inputs for shapes."""
    checks.key(key)
    params = module.init(key, example)["params"]

    def apply(params, X):
        return module.apply({"params": params}, X)

    return params, apply


def linear_regression(key: jax.Array, num_inputs: int):
    return pure(LinearRegression(), key, jnp.zeros((1, num_inputs)))


def softmax_regression(key: jax.Array, input_shape: Sequence[int], num_outputs: int = 10):
    return pure(MLP((), num_outputs), key, jnp.zeros((1, *input_shape)))


def mlp(
    key: jax.Array,
    input_shape: Sequence[int],
    hidden: Sequence[int],
    num_outputs: int = 10,
    scheme: str = "normal",
    sigma: float = 0.01,
    activation: Callable = nn.relu,
):
    """The concise MLP with any init scheme of `models.init` (as a flax initializer)."""
    hidden = checks.widths(hidden, "hidden", minimum_count=0)
    checks.integer(num_outputs, "num_outputs", minimum=1)
    module = MLP(tuple(hidden), num_outputs, activation, inits.flax_initializer(scheme, sigma))
    return pure(module, key, jnp.zeros((1, *input_shape)))
