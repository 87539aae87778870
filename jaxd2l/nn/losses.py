"""Loss functions of d2l 3.1, 3.4 and 4.1, as pure per-example functions.

Every loss maps predictions and targets of a batch to per-example losses of shape [B];
the training step averages them (weighted by the batch mask).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.arrays import array, takes

# The contracts the losses share: outputs and targets that belong together.
REGRESSION = dict(y_hat=array(), y=array(size_of="y_hat"))
CLASSIFIER = dict(logits=array(2), y=array(1, rows_of="logits", labels_of="logits"))


def _like(y: jax.Array, y_hat: jax.Array) -> jax.Array:
    """y in y_hat's shape when they hold as many values (d2l's y.reshape(y_hat.shape): a [B]
    target against [B, 1] predictions must not broadcast to [B, B]); else y as given."""
    y = jnp.asarray(y)
    return jnp.reshape(y, y_hat.shape) if y.size == y_hat.size else y


@takes(**REGRESSION)
def squared_loss(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """d2l 3.1.1: (y_hat - y)^2 / 2, per example."""
    return 0.5 * (y_hat - _like(y, y_hat)) ** 2


@takes(**REGRESSION)
def squared_error(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """(y_hat - y)^2 per example: PyTorch's `nn.MSELoss`, which d2l 4.4 and 4.10 use (no
    1/2, unlike `squared_loss`)."""
    return (y_hat - _like(y, y_hat)) ** 2


@takes(**REGRESSION)
def l1_loss(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """d2l 3.4 exercise: abs(y_hat - y), per example."""
    return jnp.abs(y_hat - _like(y, y_hat))


@takes(**REGRESSION)
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


def _pick(values: jax.Array, y: jax.Array) -> jax.Array:
    """values[i, y[i]]; NaN where y[i] is outside [0, K) (under jit, where labels cannot be
    checked, a label of -1 must not silently wrap around to the last class)."""
    K = values.shape[-1]
    picked = jnp.take_along_axis(values, jnp.clip(y, 0, K - 1)[:, None], axis=-1)[:, 0]
    return jnp.where((y >= 0) & (y < K), picked, jnp.nan)


@takes(y_hat=array(2, probabilities=True), y=array(1, rows_of="y_hat", labels_of="y_hat"))
def naive_cross_entropy(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """d2l 3.6.3: -log(y_hat[range(n), y]) on probabilities; log(0) gives inf. Concrete
    inputs are checked: labels as for `fit`, and y_hat must be probabilities (rows in
    [0, 1] summing to 1: pass softmax(logits), not logits)."""
    return -jnp.log(_pick(y_hat, y))


def _naive(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    return -jnp.log(_pick(y_hat, y))


@takes(**CLASSIFIER)
def cross_entropy(logits: jax.Array, y: jax.Array, label_smoothing: float = 0.0) -> jax.Array:
    """Stable softmax cross-entropy on logits with integer labels y [B].

    With `label_smoothing` = eps the target is (1 - eps) * onehot(y) + eps / K, the soft labels
    of the chapter's Q&A (eps = 0.1 with K = 10 gives 0.91 for the true class, 0.01 elsewhere).
    """
    if isinstance(label_smoothing, (int, float)):  # a traced value (vmap) is the caller's
        checks.fraction(label_smoothing, "label_smoothing")
    logp = log_softmax(logits)
    nll = -_pick(logp, y)
    if label_smoothing == 0.0:
        return nll
    return (1.0 - label_smoothing) * nll - label_smoothing * logp.mean(axis=-1)


@takes(**CLASSIFIER)
def naive_softmax_cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """naive_cross_entropy(softmax(logits), y), as from scratch: inf/nan on big logits."""
    return _naive(softmax(logits), y)  # its NaN on big logits is the lesson: not refused


@takes(**CLASSIFIER)
def brier_loss(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Squared error between the softmax probabilities and the one-hot label, summed over
    classes (the Brier score) [B]: the course note's "other measure" of claim 8."""
    probs = softmax(logits)
    return ((probs - jax.nn.one_hot(y, logits.shape[-1])) ** 2).sum(axis=-1)


@takes(**CLASSIFIER)
def jensen_shannon_loss(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Jensen-Shannon divergence between the one-hot label and the softmax probabilities [B],
    in nats (at most log 2): with p the true class's probability it is
    log 2 - (1 + p) log(1 + p) / 2 + p log(p) / 2."""
    p = jnp.exp(_pick(log_softmax(logits), y))
    return jnp.log(2.0) - 0.5 * (1 + p) * jnp.log1p(p) + 0.5 * jax.scipy.special.xlogy(p, p)
