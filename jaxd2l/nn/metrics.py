"""d2l 3.6.5: accuracy, as per-example values the train step and evaluation sum exactly."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l.checks.arrays import array, takes

CLASSIFIER = dict(logits=array(2), y=array(1, rows_of="logits", labels_of="logits"))
CALIBRATION = dict(
    probs=array(2, probabilities=True), y=array(1, rows_of="probs", labels_of="probs")
)


@takes(**CLASSIFIER)
def correct(logits: jax.Array, y: jax.Array) -> jax.Array:
    """1.0 where argmax(logits) == y, per example [B]."""
    return (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)


@takes(**CLASSIFIER)
def accuracy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """d2l's accuracy: the number of correct predictions (divide by len(y) for a rate)."""
    return correct(logits, y).sum()


@takes(**CLASSIFIER)
def classification_metrics(logits: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
    """The metrics of a classifier's train step and evaluation: `acc` per example."""
    return {"acc": correct(logits, y)}


@takes(**CALIBRATION)
def reliability(probs: jax.Array, y: jax.Array, num_bins: int = 15) -> dict[str, jax.Array]:
    """A reliability diagram's bins (Guo et al. 2017): the top class's probability binned
    into `num_bins` equal bins over [0, 1]; per bin the example count, the mean confidence
    and the accuracy (0 where a bin is empty). Traceable."""
    confidence = probs.max(axis=-1)
    hit = (jnp.argmax(probs, axis=-1) == y).astype(jnp.float32)
    bins = jnp.clip((confidence * num_bins).astype(jnp.int32), 0, num_bins - 1)
    count = jnp.zeros(num_bins).at[bins].add(1.0)
    total = jnp.maximum(count, 1.0)
    return {
        "count": count,
        "confidence": jnp.zeros(num_bins).at[bins].add(confidence) / total,
        "accuracy": jnp.zeros(num_bins).at[bins].add(hit) / total,
    }


@takes(**CALIBRATION)
def expected_calibration_error(probs: jax.Array, y: jax.Array, num_bins: int = 15) -> jax.Array:
    """ECE: the count-weighted mean over bins of the absolute gap between accuracy and mean
    confidence (`reliability`);
    0 for a perfectly calibrated classifier. `probs` [N, K] sum to 1, `y` [N] int labels."""
    bins = reliability(probs, y, num_bins)
    return (bins["count"] * jnp.abs(bins["accuracy"] - bins["confidence"])).sum() / y.shape[0]
