"""d2l 4.1.1: Rosenblatt's perceptron, its convergence bound, and its failure on XOR.

Labels are in {-1, +1}. On every mistake (y (w.x + b) <= 0): w <- w + y x, b <- b + y.
Training runs as a `lax.while_loop` over epochs, each a `lax.scan` over the examples in
order, until an epoch makes no mistake or `max_epochs` is reached.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.step import Model


class PerceptronResult(NamedTuple):
    """What `train` returns."""

    params: dict[str, jax.Array]
    """{"w": [d], "b": []}."""
    updates: jax.Array
    """The total number of mistakes corrected."""
    epochs: jax.Array
    """The epochs run."""
    converged: jax.Array
    """bool: the last epoch made no mistake."""


def init(key: jax.Array | None, num_inputs: int) -> dict[str, jax.Array]:
    """w = 0, b = 0: the algorithm's start (`key` is unused: nothing is random)."""
    checks.integer(num_inputs, "num_inputs", minimum=1)
    return {"w": jnp.zeros(num_inputs), "b": jnp.zeros(())}


def apply(params: dict[str, jax.Array], X: jax.Array, *, key: jax.Array | None = None):
    """Predicted labels in {-1, +1} (0 counts as -1) for X [B, d]."""
    checks.features(X, "X", ndim=2)
    return jnp.where(X @ params["w"] + params["b"] > 0, 1, -1)


def model(num_inputs: int) -> Model:
    """`Model(init, apply)` of the perceptron; it trains with `train`, not by gradients."""
    checks.integer(num_inputs, "num_inputs", minimum=1)
    return Model(lambda key: init(key, num_inputs), apply)


def train(X: jax.Array, y: jax.Array, max_epochs: int = 1000) -> PerceptronResult:
    """The perceptron algorithm from w = 0, b = 0; labels y in {-1, +1}."""
    checks.features(X, "X", ndim=2)
    checks.dataset(X, y, "perceptron data")
    labels = np.unique(np.asarray(y))
    if not set(labels.tolist()) <= {-1, 1}:
        raise ArgumentError(
            f"perceptron labels must be -1 or +1, got values {labels.tolist()[:10]}: map "
            "{0, 1} labels with 2 * y - 1"
        )
    checks.integer(max_epochs, "max_epochs", minimum=1)
    return _train(X, y, max_epochs)


@functools.partial(jax.jit, static_argnames="max_epochs")
def _train(X: jax.Array, y: jax.Array, max_epochs: int) -> PerceptronResult:

    def visit(carry, example):
        w, b, mistakes = carry
        x, label = example
        wrong = label * (x @ w + b) <= 0
        w = jnp.where(wrong, w + label * x, w)
        b = jnp.where(wrong, b + label, b)
        return (w, b, mistakes + wrong), None

    def epoch(state):
        w, b, updates, epochs, _ = state
        (w, b, mistakes), _ = jax.lax.scan(visit, (w, b, jnp.int32(0)), (X, y.astype(X.dtype)))
        return w, b, updates + mistakes, epochs + 1, mistakes == 0

    def keep_going(state):
        return (~state[4]) & (state[3] < max_epochs)

    start = (
        jnp.zeros(X.shape[1], X.dtype),
        jnp.zeros((), X.dtype),
        jnp.int32(0),
        jnp.int32(0),
        jnp.bool_(False),
    )
    w, b, updates, epochs, converged = jax.lax.while_loop(keep_going, epoch, start)
    return PerceptronResult({"w": w, "b": b}, updates, epochs, converged)


def separable_data(
    key: jax.Array, num_examples: int = 200, dim: int = 2, margin: float = 0.1
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Points in the unit ball labelled by a random hyperplane, with a gap around it.

    The separator u = (w*, b*) has ||u|| = 1 over the bias-augmented inputs (x, 1), so
    Novikoff's theorem bounds the perceptron's updates by (r^2 + 1) / rho^2, where
    r = max ||x|| and rho = min y (w*.x + b*) >= `margin`. Returns X, y, rho, r.
    """
    u_key, x_key = jax.random.split(key)
    u = jax.random.normal(u_key, (dim + 1,))
    u = u / jnp.linalg.norm(u)
    u = u.at[-1].multiply(0.5)  # keep the plane through the ball
    u = u / jnp.linalg.norm(u)
    candidates = 8 * num_examples
    d_key, r_key = jax.random.split(x_key)
    direction = jax.random.normal(d_key, (candidates, dim))
    direction /= jnp.linalg.norm(direction, axis=1, keepdims=True)
    radius = jax.random.uniform(r_key, (candidates, 1)) ** (1.0 / dim)
    X_all = direction * radius
    scores = X_all @ u[:-1] + u[-1]
    keep = jnp.flatnonzero(jnp.abs(scores) >= margin, size=num_examples, fill_value=-1)
    if bool(keep[-1] < 0):
        raise ArgumentError(f"margin {margin} too wide to draw {num_examples} points: lower it")
    X, scores = X_all[keep], scores[keep]
    y = jnp.where(scores > 0, 1, -1)
    rho = jnp.min(jnp.abs(scores))
    r = jnp.max(jnp.linalg.norm(X, axis=1))
    return X, y, rho, r


def convergence_bound(rho: jax.Array, r: jax.Array) -> jax.Array:
    """Novikoff's bound on the number of updates: (r^2 + 1) / rho^2 (bias folded in)."""
    return (r**2 + 1.0) / rho**2


XOR_X = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = jnp.array([-1, 1, 1, -1])
