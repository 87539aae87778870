"""The course note's exercise 1: an MLP with ReLU or pReLU is a continuous, piecewise
linear function of its input. Along a line x(t) = x0 + t d through input space, the
output's derivative in t (`jax.jvp`, exact, no finite differences) is piecewise constant;
its jumps are the kinks, and counting them counts the linear pieces."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxd2l.core.step import takes_key


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


def line_report(apply: Callable, params, images, path=None) -> dict:
    """The course note's exercise 1 on a trained net: along the line through the first two
    of `images` (raw uint8) the logits are continuous and piecewise linear; `path` (optional)
    gets the figure of three logits and their `jvp` slopes."""
    from jaxd2l.data.fashion_mnist import scale_images
    from jaxd2l.plot import save_function_panels

    x0, x1 = scale_images(jnp.asarray(images[:2])).reshape(2, -1)
    ts = jnp.linspace(-0.5, 1.5, 4001)
    out, slopes = along_line(apply, params, x0, x1 - x0, ts)
    if path is not None:
        panels = {
            "logits": {f"class {k}": out[:, k] for k in range(3)},
            "d logit / dt (jvp)": {f"class {k}": slopes[:, k] for k in range(3)},
        }
        save_function_panels(ts, panels, path, xlabel="t")
    jumps = float(jnp.abs(jnp.diff(out, axis=0)).max())  # continuity: no jump between points
    return {"pieces": count_pieces(slopes), "max_step_change": jumps, "points": 4001}
