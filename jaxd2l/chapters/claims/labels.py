"""Claims 6 and 8 (d2l 3.6-3.7's readers' questions): soft labels, and cross-entropy
against other measures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxd2l.chapters.claims.result import ClaimResult
from jaxd2l.chapters.claims.sweeps import (
    Budget,
    Images,
    classifier_sweep,
    curve_estimates,
    first_reaching,
)
from jaxd2l.chapters.claims.verdicts import (
    DEPENDS,
    FAILS,
    HOLDS,
    combine,
    equivalence,
    estimate,
    side,
)
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, softmax
from jaxd2l.nn.losses import brier_loss, cross_entropy, jensen_shannon_loss
from jaxd2l.nn.metrics import expected_calibration_error, reliability

WITHIN = 0.01  # accuracy: "differ little" / "no worse"
NUM_BINS = 15


def soft_loss(smoothing):
    """Cross-entropy against labels smoothed by `smoothing` (traceable, so it vmaps)."""

    def loss(logits, y):
        targets = optax.smooth_labels(jax.nn.one_hot(y, logits.shape[-1]), smoothing)
        return optax.softmax_cross_entropy(logits, targets)

    return loss


def calibration(model, params, X, y):
    """Test-set reliability bins and ECE of a trained classifier (inside the sweep)."""
    probs = jax.nn.softmax(model.apply(params, fm.scale_images(X)))
    bins = reliability(probs, y, NUM_BINS)
    return {**bins, "ece": expected_calibration_error(probs, y, NUM_BINS)}


def soft_labels(budget: Budget, images: Images) -> ClaimResult:
    """Claim 6: soft labels (0.9 on the true class, 0.1 spread over the other nine) against
    hard ones: accuracy, and calibration (ECE and a reliability diagram)."""
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    epochs, alpha = budget.pick(10, 1), 0.1 * 10 / 9  # smooth_labels: 1 - a + a/10 = 0.9
    out = classifier_sweep(
        lambda a, _: (mlp.model((784, 128, 10)), optax.sgd(0.1), soft_loss(a)),
        budget.keys(),
        data,
        epochs=epochs,
        batch_size=256,
        settings=jnp.asarray([0.0, alpha]),
        after=calibration,
    )
    acc, after = out["test"]["acc"][..., -1], out["after"]
    measured, names = {}, ("hard", "soft")
    for i, name in enumerate(names):
        measured[f"{name}: test acc"] = estimate(acc[i])
        measured[f"{name}: ECE"] = estimate(after["ece"][i])
    d_acc, d_ece = estimate(acc[1] - acc[0]), estimate(after["ece"][1] - after["ece"][0])
    measured["soft - hard test acc"], measured["soft - hard ECE"] = d_acc, d_ece
    if d_acc.high < -WITHIN or side(d_ece) == 1:
        verdict = FAILS
    elif d_acc.low > -WITHIN and side(d_ece) == -1:
        verdict = HOLDS
    else:
        verdict = DEPENDS
    curves = {}
    for i, name in enumerate(names):
        conf = after["confidence"][i].mean(0)
        curves[name] = (after["accuracy"][i].mean(0).tolist(), conf.tolist())
    return ClaimResult(
        6,
        "soft_labels",
        "Soft labels (0.9 for the true class, 0.1 over the others) work because softmax can "
        "hardly reach 1 with exponentials.",
        f"MLP 784-128-10, SGD 0.1, {epochs} epochs, batch 256, {data.train[0].shape[0]} "
        f"images; ECE over {NUM_BINS} bins on {data.test[0].shape[0]} test images; "
        f"{budget.seeds} seeds",
        f"holds if soft - hard test acc lies above -{WITHIN} AND soft - hard ECE lies below 0 "
        f"(no less accurate, better calibrated); does not hold if the accuracy lies below "
        f"-{WITHIN} or the ECE above 0; depends otherwise",
        measured,
        verdict,
        f"soft - hard: test acc {d_acc.text()}, ECE {d_ece.text()}",
        {"kind": "reliability", "bins": curves},
    )


MEASURES = {
    "cross-entropy": cross_entropy,
    "squared error (Brier)": brier_loss,
    "Jensen-Shannon": jensen_shannon_loss,
}


def cross_entropy_vs_others(budget: Budget, images: Images) -> ClaimResult:
    """Claim 8: cross-entropy against squared error on the probabilities (Brier) and the
    Jensen-Shannon divergence: accuracy and the speed of convergence."""
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    epochs, target, measured, acc, curves = budget.pick(10, 1), 0.75, {}, {}, {}
    for name, loss in MEASURES.items():
        out = classifier_sweep(
            lambda *_, loss=loss: (softmax.model(), optax.sgd(0.1), loss),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=256,
        )
        acc[name] = out["test"]["acc"]
        measured[f"{name}: test acc"] = estimate(acc[name][:, -1])
        measured[f"{name}: epochs to test acc {target}"] = estimate(
            first_reaching(acc[name], target)
        )
        curves[name] = curve_estimates(acc[name])
    parts, reasons = [], []
    for name in list(MEASURES)[1:]:
        effect = estimate(acc[name][:, -1] - acc["cross-entropy"][:, -1])
        measured[f"{name} - cross-entropy test acc"] = effect
        parts.append(equivalence(effect, WITHIN))
        reasons.append(f"{name} - cross-entropy test acc {effect.text()} ({parts[-1]})")
    return ClaimResult(
        8,
        "cross_entropy",
        "Why cross-entropy rather than other measures? In practice they differ little, so "
        "take the simplest.",
        f"softmax regression, SGD 0.1, {epochs} epochs, batch 256, {data.train[0].shape[0]} "
        f"images; {budget.seeds} seeds",
        f"per measure: equivalence of its test acc minus cross-entropy's within +-{WITHIN}; "
        "all hold: holds; all fail: does not hold; else depends",
        measured,
        combine(parts),
        "; ".join(reasons),
        {
            "kind": "curves",
            "x": list(range(1, epochs + 1)),
            "curves": curves,
            "xlabel": "epoch",
            "ylabel": "test accuracy",
        },
    )
