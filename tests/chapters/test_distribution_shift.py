"""jaxd2l.chapters.distribution_shift:
importance weights against the known density ratio, weighting lowering the
target loss, and the label-shift prior estimate on constructed confusion matrices."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.chapters.distribution_shift import (
    SOURCE,
    TARGET,
    Gaussian,
    covariate_data,
    fit_domain_classifier,
    fit_weighted_lines,
    importance_weights,
    line_loss,
    true_log_ratio,
)
from jaxd2l.chapters.label_shift import (
    confusion_matrix,
    correct_probabilities,
    estimate_target_priors,
    label_shift_sweep,
    sample_with_priors,
    skewed_priors,
    solve_priors,
)
from jaxd2l.checks.errors import ArgumentError


def domains(n=2000, seed=0):
    k = jax.random.key(seed)
    xs, ys = covariate_data(jax.random.fold_in(k, 1), n, SOURCE)
    xt, _ = covariate_data(jax.random.fold_in(k, 2), n, TARGET)
    return xs, ys, xt


def test_gaussian_log_pdf_matches_the_formula():
    g = Gaussian(0.5, 0.5)
    x = jnp.array([0.0, 0.5, 2.0])
    expected = np.log(np.exp(-0.5 * ((np.array(x) - 0.5) / 0.5) ** 2) / (0.5 * np.sqrt(2 * np.pi)))
    np.testing.assert_allclose(g.log_pdf(x), expected, rtol=1e-6)


def test_the_domain_classifier_recovers_the_known_density_ratio():
    xs, _, xt = domains()
    h = fit_domain_classifier(xs, xt)
    estimated = importance_weights(h, xs, clip=1e9)
    true = jnp.exp(true_log_ratio(xs[:, 0]))
    # the log ratio of these Gaussians is quadratic: the logistic model on (x, x^2) is exact
    assert float(jnp.median(jnp.abs(jnp.log(estimated / true)))) < 0.1
    assert float(jnp.corrcoef(estimated, true)[0, 1]) > 0.99


def test_weighting_lowers_the_target_loss():
    xs, ys, xt = domains()
    h = fit_domain_classifier(xs, xt)
    true = jnp.minimum(jnp.exp(true_log_ratio(xs[:, 0])), 10.0)
    weights = jnp.stack([jnp.ones(len(xs)), true, importance_weights(h, xs, 10.0)])
    lines = fit_weighted_lines(xs, ys, weights)
    x_test, y_test = covariate_data(jax.random.key(9), 20000, TARGET)
    unweighted, with_true, with_estimate = map(float, line_loss(lines, x_test, y_test))
    assert with_true < 0.5 * unweighted and with_estimate < 0.5 * unweighted
    assert with_estimate == pytest.approx(with_true, rel=0.05)


def test_vmapped_weighted_fits_equal_weighted_least_squares():
    xs, ys, _ = domains(500)
    w = jax.random.uniform(jax.random.key(3), (2, 500), minval=0.1, maxval=2.0)
    a, c = fit_weighted_lines(xs, ys, w, steps=4000)
    for i in range(2):
        A = np.c_[np.asarray(xs), np.ones(500)] * np.sqrt(np.asarray(w[i]))[:, None]
        b = np.asarray(ys[:, 0]) * np.sqrt(np.asarray(w[i]))
        expected = np.linalg.lstsq(A, b, rcond=None)[0]
        np.testing.assert_allclose([a[i], c[i]], expected, atol=1e-4)


def test_clip_bound_and_noise_are_checked():
    with pytest.raises(ArgumentError, match="clip bound must be >= 1"):
        importance_weights((jnp.zeros(2), jnp.zeros(())), jnp.zeros((3, 1)), clip=0.5)
    with pytest.raises(ArgumentError, match="noise must be >= 0"):
        covariate_data(jax.random.key(0), 3, SOURCE, noise=-1.0)
    weights = importance_weights((jnp.zeros(2), jnp.array(5.0)), jnp.zeros((3, 1)), 2.0)
    np.testing.assert_allclose(weights, 2.0)  # exp(5) clipped at 2


def test_the_prior_estimate_inverts_a_constructed_confusion_matrix():
    rng = np.random.default_rng(0)
    C = rng.uniform(0.0, 0.1, (4, 4)) + np.eye(4)
    C /= C.sum(axis=0, keepdims=True)  # columns: P(predict i | true j)
    q = np.array([0.5, 0.3, 0.15, 0.05])
    mu = C @ q
    np.testing.assert_allclose(solve_priors(jnp.asarray(C), mu), q, atol=1e-6)
    # noise that drives a prior below 0 is clipped and the rest renormalised
    noisy = solve_priors(jnp.eye(3), jnp.array([0.7, 0.4, -0.1]))
    np.testing.assert_allclose(noisy, [0.7 / 1.1, 0.4 / 1.1, 0.0], atol=1e-6)


def test_confusion_matrix_columns_are_conditional_on_the_true_class():
    C = confusion_matrix(jnp.array([0, 1, 1, 2]), jnp.array([0, 0, 1, 2]), 3)
    np.testing.assert_allclose(C, [[0.5, 0, 0], [0.5, 1, 0], [0, 0, 1]])


def test_correcting_with_the_true_priors_is_bayes_rule():
    probs = jnp.array([[0.6, 0.4], [0.3, 0.7]])
    out = correct_probabilities(probs, jnp.array([0.9, 0.1]), jnp.array([0.5, 0.5]))
    expected = np.array([[0.54, 0.04], [0.27, 0.07]])
    np.testing.assert_allclose(out, expected / expected.sum(1, keepdims=True), rtol=1e-6)


def test_skewed_priors_and_sampling_follow_the_asked_priors():
    order = jnp.array([2, 0, 1])
    np.testing.assert_allclose(skewed_priors(0.0, order), [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(skewed_priors(1.0, order), [2 / 7, 1 / 7, 4 / 7], rtol=1e-6)
    labels = jnp.array([0] * 100 + [1] * 300 + [2] * 600)
    priors = jnp.array([0.6, 0.3, 0.1])
    idx = sample_with_priors(jax.random.key(0), labels, priors, 20000)
    freq = np.bincount(np.asarray(labels[idx]), minlength=3) / 20000
    np.testing.assert_allclose(freq, priors, atol=0.015)


def test_the_sweep_corrects_a_classifier_with_known_confusion():
    # a calibrated classifier, right 40% of the time and otherwise uniform (so P(true =
    # predicted) = 0.55, 0.15 for each other class): correction must help under strong skew
    rng = np.random.default_rng(1)
    labels = jnp.asarray(rng.integers(0, 4, 8000))
    right = rng.uniform(size=8000) < 0.4
    predicted = np.where(right, labels, rng.integers(0, 4, 8000))
    probs = jnp.asarray(np.where(np.eye(4)[predicted] == 1, 0.55, 0.15))
    confusion = confusion_matrix(jnp.asarray(predicted), labels, 4)
    out = label_shift_sweep(
        jax.random.key(0),
        probs,
        labels,
        confusion,
        jnp.array([0.0, 1.0]),
        order=jnp.arange(4),
        source_priors=jnp.full(4, 0.25),
        num_target=4000,
    )
    assert out["estimate"].shape == (2, 4)
    assert float(out["prior_error_tv"][1]) < 0.05
    assert float(out["acc_corrected"][1]) > float(out["acc_trained"][1]) + 0.02
    assert abs(float(out["acc_corrected"][0]) - float(out["acc_trained"][0])) < 0.02


def test_the_prior_estimate_takes_hard_predictions_and_refuses_a_singular_confusion():
    C = jnp.asarray([[0.8, 0.1, 0.1], [0.1, 0.8, 0.2], [0.1, 0.1, 0.7]])
    labels = jnp.asarray([0] * 5 + [1] * 3 + [2] * 2)
    expected = solve_priors(C, jnp.asarray([0.5, 0.3, 0.2]))
    np.testing.assert_allclose(estimate_target_priors(C, labels), expected, atol=1e-6)
    with pytest.raises(TypeError, match="argmax"):
        estimate_target_priors(C, jax.nn.one_hot(labels, 3))  # probabilities, not labels
    always_zero = jnp.asarray([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="singular"):
        estimate_target_priors(always_zero, labels)
    for outside in ([0, 1, -1], [0, 1, 3]):  # -1 was counted as class 0, k dropped
        with pytest.raises(ValueError, match=r"predicted_labels` must hold class ids in \[0, 3\)"):
            estimate_target_priors(C, jnp.asarray(outside))


def test_the_advice_of_a_refusal_gives_the_right_result_when_followed():
    # issue 39: the older call shape, mean probabilities, was refused with "pass
    # predicted_labels.astype(jnp.int32)": done, all-zero labels and wrong priors
    from jaxd2l.chapters.label_shift import estimate_target_priors

    C = jnp.eye(3) * 0.7 + 0.1
    probs = jax.nn.softmax(jax.random.normal(jax.random.key(0), (600, 3)) * 3.0, axis=-1)
    with pytest.raises(TypeError, match=r"class id \(outputs.argmax\(-1\)\), not probabilities"):
        estimate_target_priors(C, probs.mean(axis=0))
    followed = estimate_target_priors(C, probs.argmax(-1))  # the advice, followed
    direct = jnp.linalg.solve(C, jnp.bincount(probs.argmax(-1), length=3) / 600)
    np.testing.assert_allclose(followed, jnp.clip(direct, 0) / jnp.clip(direct, 0).sum(), 1e-5)
    with pytest.raises(TypeError, match=r"pass predicted_labels.astype\(jnp.int32\)"):
        estimate_target_priors(C, probs.argmax(-1).astype(jnp.float32))  # whole numbers
    with pytest.raises(TypeError, match=r"pass predicted_labels.argmax\(-1\)"):
        estimate_target_priors(C, probs)
