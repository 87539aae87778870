"""Mixed precision: compute in bfloat16, keep float32 master parameters.

`mixed(apply)` casts the parameters and inputs to bfloat16 inside the model and the logits
back to float32 for the loss. Gradients flow through the casts to the float32 parameters,
so optax updates float32 values (no loss scaling is needed with bfloat16's float32-sized
exponent). On a CPU bfloat16 is often slower (no native bfloat16 matmul): measure it.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxd2l.core.step import takes_key


def mixed(apply: Callable, dtype=jnp.bfloat16) -> Callable:
    """`apply` computing in `dtype`, taking and returning float32, with the model contract's
    `key` passed through (dropout stays on in training; a key-less apply is accepted)."""
    apply = takes_key(apply)

    def apply_mixed(params, X, *, key=None):
        low = jax.tree.map(lambda p: p.astype(dtype), params)
        return apply(low, X.astype(dtype), key=key).astype(jnp.float32)

    return apply_mixed
