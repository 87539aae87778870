"""d2l 3.6.5: accuracy, as per-example values the train step and evaluation sum exactly."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def correct(logits: jax.Array, y: jax.Array) -> jax.Array:
    """1.0 where argmax(logits) == y, per example [B]."""
    return (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)


def accuracy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """d2l's accuracy: the number of correct predictions (divide by len(y) for a rate)."""
    return correct(logits, y).sum()


def classification_metrics(logits: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
    """The metrics of a classifier's train step and evaluation: `acc` per example."""
    return {"acc": correct(logits, y)}
