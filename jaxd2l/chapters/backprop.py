"""d2l 4.7: forward propagation, backward propagation and what backprop costs in memory.

The chapter's one-hidden-layer MLP with an L2 term, J = L + s, its backward pass written by
hand from the chapter's equations (checked against `jax.grad`), and the compiled programs'
own memory figures: a training step keeps the forward intermediates that inference drops.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxd2l.chapters.flops import xla_cost
from jaxd2l.nn.losses import cross_entropy


def forward(params: dict[str, jax.Array], X, y, lambd: float) -> tuple[jax.Array, dict]:
    """d2l 4.7.1 with a batch: z = X W1, h = relu(z), o = h W2, L = mean cross-entropy,
    s = lambd / 2 (||W1||^2 + ||W2||^2), J = L + s. Returns (J, the intermediates)."""
    z = X @ params["W1"]
    h = jnp.maximum(z, 0.0)
    o = h @ params["W2"]
    L = cross_entropy(o, y).mean()
    s = 0.5 * lambd * (jnp.sum(params["W1"] ** 2) + jnp.sum(params["W2"] ** 2))
    return L + s, {"X": X, "z": z, "h": h, "o": o}


def backward(params: dict[str, jax.Array], cache: dict, y, lambd: float) -> dict:
    """d2l 4.7.2 by hand, output to input: dJ/do = (softmax(o) - onehot(y)) / B; dJ/dW2 =
    h^T dJ/do + lambd W2; dJ/dh = dJ/do W2^T; dJ/dz = dJ/dh * relu'(z); dJ/dW1 = X^T dJ/dz +
    lambd W1."""
    B, K = cache["o"].shape
    dO = (jax.nn.softmax(cache["o"]) - jax.nn.one_hot(y, K)) / B
    dW2 = cache["h"].T @ dO + lambd * params["W2"]
    dH = dO @ params["W2"].T
    dZ = dH * (cache["z"] > 0)
    dW1 = cache["X"].T @ dZ + lambd * params["W1"]
    return {"W1": dW1, "W2": dW2}


def _mlp(depth: int):
    def loss(Ws, X):
        H = X
        for W in Ws:
            H = jnp.maximum(H @ W, 0.0)
        return (H**2).mean()

    return loss


def memory_figures(depth: int, width: int, batch: int) -> dict[str, dict[str, float]]:
    """Bytes of temporaries and FLOPs of the compiled program (XLA's own memory and cost
    analyses) for inference (the loss alone) and a training step (its gradient), for an
    MLP of `depth` layers of `width` at batch `batch`: the step's temporaries grow with
    depth and batch, the forward intermediates backprop keeps."""
    Ws = [jax.ShapeDtypeStruct((width, width), jnp.float32) for _ in range(depth)]
    X = jax.ShapeDtypeStruct((batch, width), jnp.float32)
    programs = {"inference": _mlp(depth), "training": jax.grad(_mlp(depth))}
    return {name: compiled_figures(fn, Ws, X) for name, fn in programs.items()}


def compiled_figures(fn, *args) -> dict[str, float]:
    """Bytes of temporaries (XLA's memory analysis) and FLOPs (its cost analysis) of `fn`
    compiled for `args`; NaN where the backend gives no figure."""
    compiled = jax.jit(fn).lower(*args).compile()
    memory: Any = compiled.memory_analysis()
    cost = xla_cost(compiled)
    nan = float("nan")
    return {
        "temp_bytes": float(memory.temp_size_in_bytes) if memory is not None else nan,
        "flops": cost["flops"] if cost else nan,
    }


def _scanned_mlp(remat: bool):
    def layer(H, W):
        return jnp.maximum(H @ W, 0.0), None

    body = jax.checkpoint(layer) if remat else layer

    def loss(Ws, X):
        H, _ = jax.lax.scan(body, X, Ws)
        return (H**2).mean()

    return loss


def remat_figures(depth: int, width: int, batch: int) -> dict[str, dict[str, float]]:
    """What `jax.checkpoint` (rematerialization) trades, from the compiled training step of
    a `depth`-layer MLP written as a `lax.scan` over stacked layers: "stored" keeps every
    layer's forward intermediates for the backward pass, "rematerialized" keeps only each
    layer's input and recomputes its forward during the backward pass.

    temp_bytes is XLA's memory analysis of the whole step. XLA's cost analysis counts a
    loop body once, so `loop_flops` is one layer's forward plus backward work (plus the
    recomputed forward) and `flops` = loop_flops x depth estimates the step. Around
    unrolled layers, XLA on CPU drops the recomputation (memory and FLOPs unchanged,
    measured), hence the scan."""
    Ws = jax.ShapeDtypeStruct((depth, width, width), jnp.float32)
    X = jax.ShapeDtypeStruct((batch, width), jnp.float32)
    out: dict[str, dict[str, float]] = {}
    for name, remat in (("stored", False), ("rematerialized", True)):
        figures = compiled_figures(jax.grad(_scanned_mlp(remat)), Ws, X)
        out[name] = {
            "temp_bytes": figures["temp_bytes"],
            "loop_flops": figures["flops"],
            "flops": figures["flops"] * depth,
        }
    return out
