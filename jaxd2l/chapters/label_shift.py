"""d2l 4.9.3.2: label shift. The classifier's confusion matrix on held-out source data and
its mean prediction on the target give the target's class priors (q = C^-1 mu), which
re-weight its probabilities; a sweep over shift severities runs as one vmapped program."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.checks.arrays import array, takes
from jaxd2l.checks.errors import ArgumentError


@takes(
    predicted=array(1, labels_of="num_classes"),
    labels=array(1, rows_of="predicted", labels_of="num_classes"),
)
def confusion_matrix(predicted: jax.Array, labels: jax.Array, num_classes: int) -> jax.Array:
    """C[i, j] = P(predict i | true class j), columns sum to 1 (a class never seen gives
    a zero column)."""
    counts = jnp.zeros((num_classes, num_classes)).at[predicted, labels].add(1.0)
    return counts / jnp.maximum(counts.sum(axis=0, keepdims=True), 1.0)


def solve_priors(confusion: jax.Array, mean_prediction: jax.Array) -> jax.Array:
    """q = C^-1 mu, clipped at 0 and renormalised to sum to 1 (d2l 4.9.3.2), where mu is
    the fraction of the target examples predicted as each class (traceable, unchecked)."""
    q = jnp.linalg.solve(confusion, mean_prediction)
    q = jnp.clip(q, 0.0, None)
    return q / jnp.sum(q)


def check_invertible(confusion: jax.Array, fix: str = "") -> None:
    """Refuse a singular confusion matrix: the target priors cannot be solved for."""
    k = confusion.shape[0]
    rank = int(np.linalg.matrix_rank(np.asarray(confusion, np.float64)))
    if rank < k:
        raise ArgumentError(
            f"the confusion matrix is singular (rank {rank} of {k}): the classifier never "
            "tells some classes apart, so the target priors cannot be solved for; "
            + (fix or "train it longer, or merge the classes it confuses")
        )


@takes(
    confusion=array(2, "float", square=True, low=0, high=1),
    predicted_labels=array(1, labels_of="confusion"),
)
def estimate_target_priors(confusion: jax.Array, predicted_labels: jax.Array) -> jax.Array:
    """The target's class priors from the classifier's hard predictions on the unlabelled
    target data (d2l 4.9.3.2).

    Args:
      confusion: [k, k] `confusion_matrix(predictions, labels, k)` on held-out source data,
        C[i, j] = P(predicted i | true j).
      predicted_labels: [N] int, `argmax` of the model's outputs on the target examples
        (not probabilities: averaging probabilities biases the estimate).

    Returns:
      [k] priors, clipped at 0 and summing to 1.

    Raises:
      TypeError: predictions that are not integer labels.
      ValueError: a label outside [0, k), or a singular confusion matrix (a class the
        classifier never predicts).
    """
    predicted_labels, k = jnp.asarray(predicted_labels), confusion.shape[0]
    if not isinstance(confusion, jax.core.Tracer):
        check_invertible(confusion)
    mean_prediction = jnp.bincount(predicted_labels, length=k) / predicted_labels.shape[0]
    return solve_priors(confusion, mean_prediction)


@takes(
    probs=array(2, probabilities=True),
    target_priors=array(1, classes_of="probs", low=0, not_all_zero=True),
    source_priors=array(1, classes_of="probs", above=0),
)
def correct_probabilities(probs: jax.Array, target_priors, source_priors) -> jax.Array:
    """p_target(y | x) ~ p(y | x) q(y) / p_source(y), renormalised over classes."""
    p = probs * (target_priors / source_priors)
    return p / jnp.sum(p, axis=-1, keepdims=True)


def skewed_priors(severity: jax.Array, order: jax.Array, ratio: float = 0.5) -> jax.Array:
    """Class priors from uniform (severity 0) to geometric (severity 1): the k-th class
    of `order` gets weight ratio^k, mixed linearly with the uniform prior."""
    k = len(order)
    geometric = jnp.zeros(k).at[order].set(ratio ** jnp.arange(k))
    geometric = geometric / geometric.sum()
    return (1 - severity) * jnp.full(k, 1.0 / k) + severity * geometric


@takes(labels=array(1, labels_of="priors"), priors=array(1, low=0, not_all_zero=True))
def sample_with_priors(key: jax.Array, labels: jax.Array, priors: jax.Array, n: int):
    """n indices into `labels` drawn with replacement so that classes follow `priors`
    (each example of class c weighs priors[c] / count(c))."""
    counts = jnp.bincount(labels, length=len(priors))
    p = priors[labels] / counts[labels]
    return jax.random.choice(key, len(labels), (n,), p=p / p.sum())


def label_shift_sweep(
    key: jax.Array,
    probs: jax.Array,
    labels: jax.Array,
    confusion: jax.Array,
    severities: jax.Array,
    *,
    order: jax.Array,
    source_priors: jax.Array,
    num_target: int = 5000,
) -> dict[str, jax.Array]:
    """For each severity (vmapped): draw a target set of `num_target` examples from the
    pool (`probs`: the classifier's probabilities on it, `labels`: its classes) with
    skewed priors, estimate the priors from `confusion` and the mean prediction, and
    measure. Returns [S] arrays: the true and estimated priors ([S, K]), the estimate's
    total-variation error, and the target accuracy as trained, corrected with the
    estimate, and corrected with the true priors (the oracle)."""
    num_classes = probs.shape[1]

    def one(severity, key):
        priors = skewed_priors(severity, order)
        idx = sample_with_priors(key, labels, priors, num_target)
        p, y = probs[idx], labels[idx]
        mu = jnp.mean(jax.nn.one_hot(jnp.argmax(p, axis=1), num_classes), axis=0)
        estimate = solve_priors(confusion, mu)

        def accuracy(q):
            return jnp.mean(jnp.argmax(correct_probabilities(p, q, source_priors), 1) == y)

        return {
            "priors": priors,
            "estimate": estimate,
            "prior_error_tv": 0.5 * jnp.sum(jnp.abs(estimate - priors)),
            "acc_trained": jnp.mean(jnp.argmax(p, axis=1) == y),
            "acc_corrected": accuracy(estimate),
            "acc_oracle": accuracy(priors),
        }

    keys = jax.random.split(key, len(severities))
    return jax.jit(jax.vmap(one))(severities, keys)
