"""Loss functions of d2l 3.1, 3.4 and 4.1, as pure per-example functions.

Every loss maps predictions and targets of a batch to per-example losses of shape [B];
the training step averages them (weighted by the batch mask).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l import checks


def _like(y: jax.Array, y_hat: jax.Array) -> jax.Array:
    """y in y_hat's shape when they hold as many values (d2l's y.reshape(y_hat.shape): a [B]
    target against [B, 1] predictions must not broadcast to [B, B]); else y as given."""
    y = jnp.asarray(y)
    return jnp.reshape(y, y_hat.shape) if y.size == y_hat.size else y


def squared_loss(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """d2l 3.1.1: (y_hat - y)^2 / 2, per example."""
    return 0.5 * (y_hat - _like(y, y_hat)) ** 2


def l1_loss(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """d2l 3.4 exercise: abs(y_hat - y), per example."""
    return jnp.abs(y_hat - _like(y, y_hat))


def huber_loss(y_hat: jax.Array, y: jax.Array, delta: float = 1.0) -> jax.Array:
    """Huber's robust loss: squared near zero, linear beyond `delta` (continuous slope)."""
    r = jnp.abs(y_hat - _like(y, y_hat))
    return jnp.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))


def softmax(logits: jax.Array) -> jax.Array:
    """d2l 3.6.2: softmax from scratch (exp, row sums, divide); overflows for large logits."""
    e = jnp.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: jax.Array) -> jax.Array:
    """Numerically stable log-softmax: subtract the row max, then log-sum-exp (d2l 4.1.3)."""
    shifted = logits - jax.lax.stop_gradient(logits.max(axis=-1, keepdims=True))
    return shifted - jnp.log(jnp.exp(shifted).sum(axis=-1, keepdims=True))


def naive_cross_entropy(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """d2l 3.6.3: -log(y_hat[range(n), y]) on probabilities; log(0) gives inf."""
    return -jnp.log(jnp.take_along_axis(y_hat, y[:, None], axis=-1)[:, 0])


def cross_entropy(logits: jax.Array, y: jax.Array, label_smoothing: float = 0.0) -> jax.Array:
    """Stable softmax cross-entropy on logits with integer labels y [B].

    With `label_smoothing` = eps the target is (1 - eps) * onehot(y) + eps / K, the soft labels
    of the chapter's Q&A (eps = 0.1 with K = 10 gives 0.91 for the true class, 0.01 elsewhere).
    """
    if isinstance(label_smoothing, (int, float)):  # a traced value (vmap) is the caller's
        checks.fraction(label_smoothing, "label_smoothing")
    if not jnp.issubdtype(jnp.asarray(y).dtype, jnp.integer):
        raise TypeError(
            f"cross_entropy takes integer class ids y, got dtype {jnp.asarray(y).dtype}: "
            "for one-hot or soft targets use optax.softmax_cross_entropy"
        )
    logp = log_softmax(logits)
    nll = -jnp.take_along_axis(logp, y[:, None], axis=-1)[:, 0]
    if label_smoothing == 0.0:
        return nll
    return (1.0 - label_smoothing) * nll - label_smoothing * logp.mean(axis=-1)


def naive_softmax_cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """naive_cross_entropy(softmax(logits), y), as from scratch: inf/nan on big logits."""
    return naive_cross_entropy(softmax(logits), y)
