"""d2l 4.1.2: activation functions from their formulas, and derivatives by vmap(grad)."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def relu(x: jax.Array) -> jax.Array:
    """max(x, 0); its derivative is the step 1[x > 0] (0 at x = 0, as d2l and PyTorch take
    it). Written with `where`, not `jnp.maximum`, whose derivative at a tie is 1/2."""
    return jnp.where(x > 0, x, 0.0)


def sigmoid(x: jax.Array) -> jax.Array:
    """1 / (1 + exp(-x)); derivative s(x)(1 - s(x)).

    For x < 0 the same value is written exp(x) / (1 + exp(x)), so exp never overflows and
    the derivative far to the left is 0, not inf / inf = NaN; each branch sees a clamped
    input (the `where` trick), so neither one's derivative can be NaN."""
    positive = x >= 0
    e = jnp.exp(-jnp.where(positive, x, -x))  # exp(-|x|) <= 1
    return jnp.where(positive, 1.0, e) / (1.0 + e)


def tanh(x: jax.Array) -> jax.Array:
    """(1 - exp(-2x)) / (1 + exp(-2x)); derivative 1 - tanh(x)^2.

    The formula is evaluated for x >= 0 only, where exp(-2x) <= 1 cannot overflow, and
    reflected (tanh is odd) for x < 0. Each branch sees a clamped input, so neither its
    value nor its derivative is ever inf or NaN, and the derivative at 0 is 1 (through
    `sign(x)` or `abs(x)` it would be 0 there)."""
    positive = x >= 0
    at = jnp.where(positive, x, -x)  # |x|, with derivative +-1 (also at 0, unlike abs)

    def formula(z):
        e = jnp.exp(-2.0 * z)
        return (1.0 - e) / (1.0 + e)

    return jnp.where(positive, 1.0, -1.0) * formula(at)


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
