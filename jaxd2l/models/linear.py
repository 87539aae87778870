"""d2l 3.2 linear regression from scratch, and the closed-form solution of d2l 3.1.1."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.step import Model


def init(key: jax.Array, num_inputs: int, sigma: float = 0.01) -> dict[str, jax.Array]:
    """w ~ N(0, sigma^2) of shape [d], b = 0 (d2l 3.2.1)."""
    checks.key(key)
    checks.size(num_inputs, "num_inputs")
    return {"w": sigma * jax.random.normal(key, (num_inputs,)), "b": jnp.zeros(())}


def apply(params: dict[str, jax.Array], X: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
    """y_hat = Xw + b: X [B, d] -> [B] (`key` is unused: no randomness)."""
    checks.features(X, ndim=2)
    if params["w"].shape != (X.shape[1],):
        raise ArgumentError(
            f"params['w'] has shape {params['w'].shape} but X has {X.shape[1]} features: "
            f"expected w of shape ({X.shape[1]},)"
        )
    return X @ params["w"] + params["b"]


def model(num_inputs: int, sigma: float = 0.01) -> Model:
    """`Model(init(key), apply)` of d2l 3.2's linear regression with `num_inputs` features."""
    checks.size(num_inputs, "num_inputs")
    return Model(lambda key: init(key, num_inputs, sigma), apply)


def closed_form(X: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
    """w* = (X^T X)^-1 X^T y with the bias folded into X as a column of ones.

    Solved by least squares (QR/SVD) rather than an explicit inverse, which is the same
    minimiser and stays accurate when X^T X is badly conditioned.
    """
    checks.features(X, ndim=2)
    concrete = not any(isinstance(a, jax.core.Tracer) for a in (X, y))
    if concrete and getattr(y, "shape", None) == (X.shape[0],):
        checks.dataset(X, y, "closed_form")  # NaN or inf would give NaN weights
    if getattr(y, "shape", None) != (X.shape[0],):
        raise ArgumentError(
            f"y must have shape ({X.shape[0]},) to match X, got {getattr(y, 'shape', y)}"
        )
    Xb = jnp.concatenate([X, jnp.ones((X.shape[0], 1), X.dtype)], axis=1)
    wb = jnp.linalg.lstsq(Xb, y)[0]
    return {"w": wb[:-1], "b": wb[-1]}
