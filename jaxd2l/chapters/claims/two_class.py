"""Claim 7 (d2l 3.6's readers' question): logistic regression is the two-class special case
of softmax regression, checked exactly on two Fashion-MNIST classes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import exact
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import (
    Budget,
    Images,
    classifier_sweep,
    curve_estimates,
    epoch_figure,
)
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.step import Model
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import softmax
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy

PAIR = (0, 6)  # T-shirt/top vs shirt: the two classes of claim 7


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
    parts = [
        exact("max |p(softmax) - p(logistic)| over test images", p_gap.max(), 1e-5),
        exact("max |test loss difference| over epochs", loss_gap.max(), 1e-5),
    ]
    return claim_result(
        7,
        "logistic",
        "Logistic regression is the two-class special case of softmax regression.",
        f"Fashion-MNIST classes {PAIR[0]} (T-shirt/top) vs {PAIR[1]} (shirt), "
        f"{data.train[0].shape[0]} images; softmax (2 outputs) at SGD 0.1 vs logistic "
        f"regression at 0.2 from w = W1 - W0; {epochs} epochs; {budget.seeds} seeds",
        "two exact parts: every test probability, and every epoch's test loss, agree within "
        "1e-5 in every seed",
        measured,
        epoch_figure(
            {f"{k}: test loss": curve_estimates(v["test"]["loss"]) for k, v in runs.items()},
            epochs,
            "test loss",
        ),
        parts=parts,
    )
