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
import optax

from jaxd2l.checks.arrays import array, takes
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.history import check_minimized

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


def descend(loss, params, *, steps: int, lr: float):
    """`steps` full-batch steps of SGD with momentum 0.9 (optax) on `loss`, as one
    `lax.scan`: (params, (the untrained loss, the final loss)), for the divergence rule."""
    check_steps(steps)
    tx = optax.sgd(lr, momentum=0.9)

    def step(carry, _):
        params, opt = carry
        updates, opt = tx.update(jax.grad(loss)(params), opt)
        return (optax.apply_updates(params, updates), opt), None

    (trained, _), _ = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
    return trained, (loss(params), loss(trained))


def minimize(loss, params, *, steps: int, lr: float, what: str = "the fit"):
    """`params` after `descend`, checked by the drivers' divergence rule (`what` names the
    fit in the DivergedError; under `jit` the caller checks `descend`'s losses)."""
    params, (untrained, final) = descend(loss, params, steps=steps, lr=lr)
    check_minimized(untrained, final, what, f"lower the learning rate `lr` (now {lr:g})")
    return params


def check_steps(steps: int) -> None:
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 10**7:
        raise ArgumentError(f"steps must be an int in [1, 10**7], got {steps!r}")


@takes(x_source=array(2), x_target=array(2, trailing_of="x_source"))
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

    start = (jnp.zeros(X.shape[1]), jnp.zeros(()))
    w, b = minimize(loss, start, steps=steps, lr=lr, what="the domain classifier")
    return w / scale, b


@takes(x=array(2))
def importance_weights(params, x: jax.Array, clip: float = 10.0, prior_ratio: float = 1.0):
    """beta(x) = exp(h(x)) * n_source / n_target (`prior_ratio`), clipped above at `clip`;
    the weights of source examples x ([n, 1]) as a vector."""
    if not clip >= 1:
        raise ArgumentError(f"the clip bound must be >= 1 (weights are ratios), got {clip}")
    w, b = params
    return jnp.minimum(jnp.exp(_domain_features(x) @ w + b) * prior_ratio, clip)


@takes(
    x=array(2),
    y=array(2, rows_of="x", trailing_of="x"),
    weights=array(2, entries_of="x", low=0, not_all_zero=True),
)
def fit_weighted_lines(x, y, weights, *, steps: int = 2000, lr: float = 0.05):
    """Lines y = a x + c fitted by weighted squared error, one per row of `weights`
    ([k, n]), vmapped, each by `minimize`. Returns (a, c), each [k]."""

    def fit_one(wts):
        def loss(params):
            a, c = params
            return jnp.sum(wts * (a * x[:, 0] + c - y[:, 0]) ** 2) / jnp.sum(wts)

        return descend(loss, (jnp.zeros(()), jnp.zeros(())), steps=steps, lr=lr)

    lines, (untrained, final) = jax.vmap(fit_one)(weights)
    fix = f"lower the learning rate `lr` (now {lr:g})"
    check_minimized(
        untrained, final, "a weighted line", fix, [f"row {i}" for i in range(len(final))]
    )
    return lines


@takes(x=array(2), y=array(2, rows_of="x", trailing_of="x"))
def line_loss(params, x, y) -> jax.Array:
    """Mean squared error of the lines (a, c) ([k] each) on (x, y): [k]."""
    a, c = params
    return jnp.mean((a[:, None] * x[None, :, 0] + c[:, None] - y[None, :, 0]) ** 2, axis=1)


# ---------------------------------------------------------------- label shift
