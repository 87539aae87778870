"""d2l 4.1.2: activation functions from their formulas, and derivatives by vmap(grad)."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def relu(x: jax.Array) -> jax.Array:
    """max(x, 0); its derivative is the step 1[x > 0] (0 at x = 0, as d2l takes it)."""
    return jnp.maximum(x, 0.0)


def sigmoid(x: jax.Array) -> jax.Array:
    """1 / (1 + exp(-x)); derivative s(x)(1 - s(x))."""
    return 1.0 / (1.0 + jnp.exp(-x))


def tanh(x: jax.Array) -> jax.Array:
    """(1 - exp(-2x)) / (1 + exp(-2x)); derivative 1 - tanh(x)^2."""
    e = jnp.exp(-2.0 * jnp.abs(x))  # |x| keeps exp from overflowing for large negative x
    return jnp.sign(x) * (1.0 - e) / (1.0 + e)


def prelu(x: jax.Array, a: jax.Array) -> jax.Array:
    """He et al.'s parametric ReLU: x for x > 0, a * x otherwise (a learned per layer;
    a = 0 is ReLU). Continuous and piecewise linear in x, like ReLU."""
    return jnp.where(x > 0, x, a * x)


ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
}


def derivative(f: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
    """The elementwise derivative of a scalar function over a vector: vmap(grad(f))."""
    return jax.vmap(jax.grad(f))
