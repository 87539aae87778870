"""The course note's exercise 1: an MLP with ReLU or pReLU is a continuous, piecewise
linear function of its input. Along a line x(t) = x0 + t d through input space, the
output's derivative in t (`jax.jvp`, exact, no finite differences) is piecewise constant;
its jumps are the kinks, and counting them counts the linear pieces."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxd2l.core.model import takes_key


def along_line(apply: Callable, params, x0: jax.Array, direction: jax.Array, ts: jax.Array):
    """(outputs [T, K], derivatives d output / dt [T, K]) at x0 + t * direction for every t
    in `ts`, the model in evaluation (no dropout)."""
    apply = takes_key(apply)

    def at(t):
        f = lambda s: apply(params, (x0 + s * direction)[None], key=None)[0]
        return jax.jvp(f, (t,), (jnp.ones_like(t),))

    return jax.jit(jax.vmap(at))(jnp.asarray(ts, jnp.float32))


def count_pieces(derivatives: jax.Array, rtol: float = 1e-3) -> int:
    """Linear pieces along the line: 1 + the number of steps where the derivative [T, K]
    changes by more than `rtol` of its scale (within a piece it is constant up to rounding)."""
    d = jnp.asarray(derivatives)
    scale = jnp.maximum(jnp.abs(d).max(), 1e-12)
    jumps = jnp.abs(jnp.diff(d, axis=0)).max(axis=-1) > rtol * scale
    return 1 + int(jumps.sum())
