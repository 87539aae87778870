"""Environment and distribution shift (d2l 4.9): covariate shift corrected by importance
weights from a domain classifier, and label shift corrected by priors estimated from the
confusion matrix.

Covariate shift (d2l 4.9.3.1). Source and target draw x from different Gaussians, y from
the same conditional y = f(x) + noise; a line fitted on the source is wrong where the
target lives. Weighting each source example by beta(x) = p_target(x) / p_source(x) makes
the source loss an estimate of the target loss. beta comes from a logistic regression h
telling target (label 1) from source (label -1) on equally many draws of each:
beta = exp(h(x)), clipped above at `clip`. On Gaussians the log ratio is quadratic in x,
so h on the features (x, x^2) can be exact, and the estimate can be checked against the
true ratio.

Label shift (d2l 4.9.3.2). The classes' priors change, p(x | y) does not. With C the
validation confusion matrix (C[i, j] = P(predict i | true j)) and mu the mean prediction
on the unlabelled target, mu = C q, so q = C^-1 mu (clipped at 0, renormalised);
the classifier is corrected by p_target(y | x) ~ p(y | x) q(y) / p_source(y).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.core.errors import ArgumentError, ArgumentTypeError

# ---------------------------------------------------------------- covariate shift


class Gaussian(NamedTuple):
    """A normal distribution over x."""

    mean: float
    """Its mean."""
    std: float
    """Its standard deviation."""

    def log_pdf(self, x: jax.Array) -> jax.Array:
        """log N(x; mean, std^2)."""
        z = (x - self.mean) / self.std
        return -0.5 * z**2 - jnp.log(self.std * jnp.sqrt(2 * jnp.pi))


SOURCE = Gaussian(0.5, 0.5)  # Shimodaira's (2000) classic setting
TARGET = Gaussian(0.0, 0.3)


def regression_target(x: jax.Array) -> jax.Array:
    """The conditional both domains share: E[y | x] = -x + x^3."""
    return -x + x**3


def covariate_data(key: jax.Array, n: int, domain: Gaussian, noise: float = 0.3):
    """(x, y): n draws of x ~ domain, y = -x + x^3 + noise * N(0, 1), as [n, 1] columns."""
    if noise < 0:
        raise ArgumentError(f"noise must be >= 0, got {noise}")
    kx, ky = jax.random.split(key)
    x = domain.mean + domain.std * jax.random.normal(kx, (n, 1))
    return x, regression_target(x) + noise * jax.random.normal(ky, (n, 1))


def true_log_ratio(x: jax.Array, source: Gaussian = SOURCE, target: Gaussian = TARGET):
    """log p_target(x) - log p_source(x)."""
    return target.log_pdf(x) - source.log_pdf(x)


def _domain_features(x: jax.Array) -> jax.Array:
    return jnp.concatenate([x, x**2], axis=-1)


def minimize(loss, params, *, steps: int, lr: float):
    """`params` after `steps` full-batch steps of SGD with momentum 0.9 (optax) on `loss`,
    as one `lax.scan`."""
    tx = optax.sgd(lr, momentum=0.9)

    def step(carry, _):
        params, opt = carry
        updates, opt = tx.update(jax.grad(loss)(params), opt)
        return (optax.apply_updates(params, updates), opt), None

    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
    return params


def fit_domain_classifier(
    x_source: jax.Array, x_target: jax.Array, *, steps: int = 2000, lr: float = 0.1
):
    """A logistic regression h(x) = w . (x, x^2) + b telling target from source, fitted by
    `minimize` on the logistic loss; returns (w, b)."""
    X = _domain_features(jnp.concatenate([x_source, x_target]))
    z = jnp.concatenate([-jnp.ones(len(x_source)), jnp.ones(len(x_target))])
    scale = jnp.std(X, axis=0)  # standardised inputs: plain gradient descent converges
    Xs = X / scale

    def loss(params):
        w, b = params
        return jnp.mean(jax.nn.softplus(-z * (Xs @ w + b)))

    w, b = minimize(loss, (jnp.zeros(X.shape[1]), jnp.zeros(())), steps=steps, lr=lr)
    return w / scale, b


def importance_weights(params, x: jax.Array, clip: float = 10.0, prior_ratio: float = 1.0):
    """beta(x) = exp(h(x)) * n_source / n_target (`prior_ratio`), clipped above at `clip`;
    the weights of source examples x ([n, 1]) as a vector."""
    if not clip >= 1:
        raise ArgumentError(f"the clip bound must be >= 1 (weights are ratios), got {clip}")
    w, b = params
    return jnp.minimum(jnp.exp(_domain_features(x) @ w + b) * prior_ratio, clip)


def fit_weighted_lines(x, y, weights, *, steps: int = 2000, lr: float = 0.05):
    """Lines y = a x + c fitted by weighted squared error, one per row of `weights`
    ([k, n]), vmapped, each by `minimize`. Returns (a, c), each [k]."""

    def fit_one(wts):
        def loss(params):
            a, c = params
            return jnp.sum(wts * (a * x[:, 0] + c - y[:, 0]) ** 2) / jnp.sum(wts)

        return minimize(loss, (jnp.zeros(()), jnp.zeros(())), steps=steps, lr=lr)

    return jax.vmap(fit_one)(weights)


def line_loss(params, x, y) -> jax.Array:
    """Mean squared error of the lines (a, c) ([k] each) on (x, y): [k]."""
    a, c = params
    return jnp.mean((a[:, None] * x[None, :, 0] + c[:, None] - y[None, :, 0]) ** 2, axis=1)


# ---------------------------------------------------------------- label shift


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
      ValueError: a singular confusion matrix (a class the classifier never predicts).
    """
    predicted_labels = jnp.asarray(predicted_labels)
    if predicted_labels.ndim != 1 or not jnp.issubdtype(predicted_labels.dtype, jnp.integer):
        raise ArgumentTypeError(
            "predicted_labels must be [N] integer class predictions on the target data, "
            f"got {predicted_labels.dtype} of shape {predicted_labels.shape}: pass "
            "jnp.argmax(outputs, axis=-1) (mean probabilities bias the estimate)"
        )
    k = confusion.shape[0]
    if not isinstance(confusion, jax.core.Tracer):
        rank = int(np.linalg.matrix_rank(np.asarray(confusion, np.float64)))
        if rank < k:
            raise ArgumentError(
                f"the confusion matrix is singular (rank {rank} of {k}): the classifier never "
                "tells some classes apart, so the target priors cannot be solved for; train "
                "it longer, or merge the classes it confuses"
            )
    mean_prediction = jnp.bincount(predicted_labels, length=k) / predicted_labels.shape[0]
    return solve_priors(confusion, mean_prediction)


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
