"""Claims 6 and 8 (d2l 3.6-3.7's readers' questions): soft labels, and cross-entropy
against other measures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction, equivalence, exact
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.stopping import two_split_evaluate
from jaxd2l.chapters.claims.sweeps import (
    LAST,
    Budget,
    Images,
    classifier_sweep,
    curve_estimates,
    end_of_training,
    epoch_figure,
    reaching,
)
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, softmax
from jaxd2l.nn.losses import brier_loss, cross_entropy, jensen_shannon_loss
from jaxd2l.nn.metrics import expected_calibration_error, reliability

WITHIN = 0.01  # accuracy: "differ little" / "no worse"
LRS = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)  # claim 8's grid: every measure tuned on it
NUM_BINS = 15


def soft_loss(smoothing):
    """Cross-entropy against labels smoothed by `smoothing` (traceable, so it vmaps)."""

    def loss(logits, y):
        targets = optax.smooth_labels(jax.nn.one_hot(y, logits.shape[-1]), smoothing)
        return optax.softmax_cross_entropy(logits, targets)

    return loss


def calibration(model, params, X, y):
    """Test-set reliability bins and ECE of a trained classifier (inside the sweep), and
    the logits' growth: the mean margin of the largest logit over the runner-up."""
    logits = model.apply(params, fm.scale_images(X))
    probs = jax.nn.softmax(logits)
    bins = reliability(probs, y, NUM_BINS)
    top = jax.lax.top_k(logits, 2)[0]
    margin = jnp.mean(top[:, 0] - top[:, 1])
    return {**bins, "ece": expected_calibration_error(probs, y, NUM_BINS), "margin": margin}


def soft_labels(budget: Budget, images: Images) -> ClaimResult:
    """Claim 6: soft labels (0.9 on the true class, 0.1 spread over the other nine) against
    hard ones: accuracy, and calibration (ECE and a reliability diagram)."""
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    epochs, alpha = budget.pick(30, 1), 0.1 * 10 / 9  # smooth_labels: 1 - a + a/10 = 0.9
    out = classifier_sweep(
        lambda a, _: (mlp.model((784, 128, 10)), optax.sgd(0.1), soft_loss(a)),
        budget.keys(),
        data,
        epochs=epochs,
        batch_size=256,
        settings=jnp.asarray([0.0, alpha]),
        after=calibration,
    )
    acc, after = end_of_training(out["test"]["acc"]), out["after"]
    measured, names = {}, ("hard", "soft")
    for i, name in enumerate(names):
        measured[f"{name}: test acc, mean of the last {LAST} epochs"] = estimate(acc[i])
        measured[f"{name}: ECE"] = estimate(after["ece"][i])
        measured[f"{name}: logit margin, top - runner-up"] = estimate(after["margin"][i])
    d_acc, d_ece = estimate(acc[1] - acc[0]), estimate(after["ece"][1] - after["ece"][0])
    d_margin = estimate(after["margin"][1] - after["margin"][0])
    measured["soft - hard test acc"], measured["soft - hard ECE"] = d_acc, d_ece
    measured["soft - hard logit margin"] = d_margin
    parts = [  # the note's endpoint: soft labels reach the target (no less accurate)
        direction("soft - hard test acc", d_acc, +1, threshold=-WITHIN),
        direction("soft - hard logit margin", d_margin, -1, primary=False),  # the growth
        direction("soft - hard ECE", d_ece, -1, primary=False),  # calibration: secondary
    ]
    curves = {}
    for i, name in enumerate(names):
        conf = after["confidence"][i].mean(0)
        curves[name] = (after["accuracy"][i].mean(0).tolist(), conf.tolist())
    return claim_result(
        6,
        "soft_labels",
        "Soft labels (0.9 for the true class, 0.1 over the others) work because softmax can "
        "hardly reach 1 with exponentials.",
        f"MLP 784-128-10, SGD 0.1, {epochs} epochs, batch 256, {data.train[0].shape[0]} "
        f"images; ECE over {NUM_BINS} bins on {data.test[0].shape[0]} test images; "
        f"{budget.seeds} seeds",
        f"primary: soft - hard test acc (mean of the last {LAST} epochs) above -{WITHIN} (not "
        "less accurate; t test); secondary: soft - hard logit margin below 0 (the logits "
        "stop growing once the target is reachable), soft - hard ECE below 0",
        measured,
        {"kind": "reliability", "bins": curves},
        parts=parts,
    )


KL_PART = "max |KL(one-hot, softmax) - cross-entropy| per example"


def kl_gap(budget: Budget) -> float:
    """Relative entropy against cross-entropy, the alternative the note names: with one-hot
    targets KL(y || softmax(z)) = -log softmax(z)_y exactly (optax's `kl_divergence`), on
    logits drawn at every scale a run meets (largest gap over every example of every seed)."""
    gaps = []
    for key in budget.keys():
        logits = jax.random.normal(key, (512, 10)) * jnp.logspace(-2, 2, 512)[:, None]
        y = jax.random.randint(jax.random.fold_in(key, 1), (512,), 0, 10)
        kl = optax.losses.kl_divergence(jax.nn.log_softmax(logits), jax.nn.one_hot(y, 10))
        gaps.append(float(jnp.abs(kl - cross_entropy(logits, y)).max()))
    return max(gaps)


MEASURES = {
    "cross-entropy": cross_entropy,
    "squared error (Brier)": brier_loss,
    "Jensen-Shannon": jensen_shannon_loss,
}


def cross_entropy_vs_others(budget: Budget, images: Images) -> ClaimResult:
    """Claim 8: cross-entropy against squared error on the probabilities (Brier) and the
    Jensen-Shannon divergence, each at its own learning rate (the grid's best mean
    validation accuracy, on images held out of training), judged on the test split; KL as
    an exact oracle."""
    n, n_val, num_test = budget.pick(10000, 600), budget.pick(5000, 300), budget.pick(5000, 300)
    (X, y), (Xt, yt) = images.train, images.test
    data = Images(
        (X[:n], y[:n]), (X[n : n + n_val], y[n : n + n_val], Xt[:num_test], yt[:num_test])
    )
    lrs = np.asarray(budget.pick(LRS, (0.1, 1.0)), np.float32)
    epochs, target, measured, acc, curves, tuned = budget.pick(10, 1), 0.75, {}, {}, {}, {}
    for name, loss in MEASURES.items():
        out = classifier_sweep(
            lambda lr, _, loss=loss: (softmax.model(), optax.sgd(lr), loss),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=256,
            settings=jnp.asarray(lrs),
            evaluate=two_split_evaluate,
        )
        val = np.nan_to_num(out["test"]["val_acc"][..., -1], nan=0.0)  # [lrs, seeds]
        best = int(val.mean(axis=1).argmax())  # chosen on validation, never on test
        tuned[name] = float(lrs[best])
        acc[name] = out["test"]["acc"][best]  # [seeds, epochs]
        measured[f"{name}: test acc, mean of the last {LAST} epochs"] = estimate(
            end_of_training(acc[name])
        )
        measured.update(reaching(acc[name], target, f"{name}: test acc"))
        curves[f"{name} (lr {lrs[best]:g})"] = curve_estimates(acc[name])
    parts = []
    for name in list(MEASURES)[1:]:
        effect = estimate(end_of_training(acc[name]) - end_of_training(acc["cross-entropy"]))
        measured[f"{name} - cross-entropy test acc"] = effect
        parts.append(equivalence(f"{name} - cross-entropy test acc", effect, WITHIN))
    parts.append(exact(KL_PART, kl_gap(budget), 1e-6))
    grid = ", ".join(f"{lr:g}" for lr in lrs)
    return claim_result(
        8,
        "cross_entropy",
        "Why cross-entropy rather than other measures? In practice they differ little, so "
        "take the simplest.",
        f"softmax regression, SGD at each measure's own rate (the best mean validation "
        f"accuracy of {grid} on {n_val} held-out training images), {epochs} epochs, batch "
        f"256, {n} images; {budget.seeds} seeds; the rates chosen: "
        + ", ".join(f"{k} {v:g}" for k, v in tuned.items()),
        f"per measure: its test acc (mean of the last {LAST} epochs) minus cross-entropy's "
        f"equivalent within +-{WITHIN} (TOST); relative entropy KL(one-hot || softmax) "
        "equals cross-entropy (an exact oracle, 1e-6); all primary",
        measured,
        epoch_figure(curves, epochs),
        parts=parts,
        details={"tuned_learning_rates": tuned},
    )
