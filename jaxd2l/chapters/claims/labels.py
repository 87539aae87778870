"""Claims 6-8 (d2l 3.6-3.7's readers' questions): soft labels, logistic regression as the
two-class softmax, and cross-entropy against other measures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
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
from jaxd2l.core.epoch import make_evaluate
from jaxd2l.core.errors import ArgumentError
from jaxd2l.core.model import Model
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, softmax
from jaxd2l.nn.losses import brier_loss, cross_entropy, jensen_shannon_loss
from jaxd2l.nn.metrics import expected_calibration_error, reliability

WITHIN = 0.01  # accuracy: "differ little" / "no worse"
PAIR = (0, 6)  # T-shirt/top vs shirt: the two classes of claim 7
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


def logistic_model(num_inputs: int = 784, sigma: float = 0.01) -> Model:
    """Logistic regression whose init is the two-class softmax init's difference, w = W[:,
    1] - W[:, 0] (so both start from the same predictions); apply gives logits [B]."""

    def init(key):
        p = softmax.init(key, num_inputs, 2, sigma)
        return {"w": p["W"][:, 1] - p["W"][:, 0], "b": p["b"][1] - p["b"][0]}

    def apply(params, X, *, key=None):
        return X.reshape(X.shape[0], -1) @ params["w"] + params["b"]

    return Model(init, apply)


def binary_loss(logit, y):
    """Binary cross-entropy on a logit [B] with labels 0/1."""
    return optax.sigmoid_binary_cross_entropy(logit, y.astype(logit.dtype))


def binary_metrics(logit, y):
    """Accuracy of a logit [B]: class 1 where it is positive."""
    return {"acc": ((logit > 0) == (y == 1)).astype(jnp.float32)}


def two_classes(images: Images, pair=PAIR) -> Images:
    """Only the examples of the two classes `pair`, relabelled 0 and 1."""
    parts = []
    for X, y in (images.train, images.test):
        y = np.asarray(y)
        keep = np.isin(y, pair)
        parts.append((jnp.asarray(np.asarray(X)[keep]), jnp.asarray((y[keep] == pair[1]) * 1)))
    return Images(*parts)


def compare_two_class(key_batch, data: Images, epochs: int, lr: float) -> dict:
    """The two-class softmax (lr) and logistic regression (2 lr, the gradient of W1 - W0 is
    twice the logistic one) trained from the same start: both runs' test curves and test
    probabilities of class 1."""
    p_softmax = lambda m, p, X, y: jax.nn.softmax(m.apply(p, fm.scale_images(X)))[:, 1]  # noqa: E731
    p_logistic = lambda m, p, X, y: jax.nn.sigmoid(m.apply(p, fm.scale_images(X)))  # noqa: E731
    settings = {"epochs": epochs, "batch_size": 256}
    soft = classifier_sweep(
        lambda *_: (softmax.model(784, 2), optax.sgd(lr), cross_entropy),
        key_batch,
        data,
        after=p_softmax,
        **settings,
    )
    logistic = classifier_sweep(
        lambda *_: (logistic_model(), optax.sgd(2 * lr), binary_loss),
        key_batch,
        data,
        after=p_logistic,
        metrics=binary_metrics,
        evaluate=lambda apply: make_evaluate(
            apply, binary_loss, binary_metrics, prepare=fm.scale_images
        ),
        **settings,
    )
    return {"softmax": soft, "logistic": logistic}


def logistic(budget: Budget, images: Images) -> ClaimResult:
    """Claim 7: logistic regression is the two-class softmax regression: the same test
    predictions and the same training curve, exactly."""
    data = two_classes(images)
    if min(data.train[0].shape[0], data.test[0].shape[0]) == 0:
        raise ArgumentError(f"the images hold no examples of classes {PAIR} to compare")
    data = data.subset(budget.pick(12000, 1000), budget.pick(2000, 500))
    epochs = budget.pick(5, 1)
    runs = compare_two_class(budget.keys(), data, epochs, 0.1)
    soft, logi = runs["softmax"], runs["logistic"]
    p_gap = np.abs(soft["after"] - logi["after"]).max(axis=-1)
    loss_gap = np.abs(soft["test"]["loss"] - logi["test"]["loss"]).max(axis=-1)
    measured = {
        "max |p(softmax) - p(logistic)| over test images": estimate(p_gap),
        "max |test loss difference| over epochs": estimate(loss_gap),
        "softmax: test acc": estimate(soft["test"]["acc"][:, -1]),
        "logistic: test acc": estimate(logi["test"]["acc"][:, -1]),
    }
    exact = bool(max(p_gap.max(), loss_gap.max()) <= 1e-5)
    return ClaimResult(
        7,
        "logistic",
        "Logistic regression is the two-class special case of softmax regression.",
        f"Fashion-MNIST classes {PAIR[0]} (T-shirt/top) vs {PAIR[1]} (shirt), "
        f"{data.train[0].shape[0]} images; softmax (2 outputs) at SGD 0.1 vs logistic "
        f"regression at 0.2 from w = W1 - W0; {epochs} epochs; {budget.seeds} seeds",
        "holds if every test probability and every epoch's test loss agree within 1e-5 in "
        "every seed (an exact equivalence); does not hold otherwise",
        measured,
        HOLDS if exact else FAILS,
        f"largest gap {max(p_gap.max(), loss_gap.max()):.1e} (probabilities and test loss)",
        {
            "kind": "curves",
            "x": list(range(1, epochs + 1)),
            "curves": {
                f"{k}: test loss": curve_estimates(v["test"]["loss"]) for k, v in runs.items()
            },
            "xlabel": "epoch",
            "ylabel": "test loss",
        },
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
