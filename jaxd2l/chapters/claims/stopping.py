"""Claim 9 (d2l 3.6's readers' question, d2l-en 5.5): test accuracy that rises and then
falls, and the epoch early stopping keeps; the peak is chosen on a validation split and the
fall measured on the test split, with label noise drawn per seed, and a clean setting."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import (
    LAST,
    Budget,
    Images,
    classifier_sweep,
    curve_estimates,
    end_of_training,
    epoch_figure,
)
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import classifier_evaluate, scratch_loss
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import summarize
from jaxd2l.data.noise import noisy_labels
from jaxd2l.models import mlp
from jaxd2l.nn.early_stopping import EarlyStopping

NOISE, PATIENCE, VISIBLE = 0.4, 5, 0.01  # a fall is visible when it exceeds one point
FALL = "test acc at the validation peak - at the end"
GAIN = "test acc at the kept epoch - at the end"


def two_split_evaluate(apply):
    """`evaluate(params, X_val, y_val, X_test, y_test)`: test loss and accuracy plus the
    validation accuracy, each already a mean (count 1, so `summarize` keeps them)."""
    evaluate = classifier_evaluate(apply)

    def both(params, X_val, y_val, X_test, y_test):
        val, test = (
            summarize(evaluate(params, X_val, y_val)),
            summarize(evaluate(params, X_test, y_test)),
        )
        return {
            "count": jnp.ones(()),
            "loss": test["loss"],
            "acc": test["acc"],
            "val_acc": val["acc"],
        }

    return both


def kept_epoch(val_acc: np.ndarray, patience: int = PATIENCE) -> int:
    """The epoch (from 1) `nn.early_stopping.EarlyStopping` keeps on a validation curve."""
    stopper = EarlyStopping(patience, monitor="val_acc")
    for epoch, value in enumerate(val_acc, start=1):
        if stopper.update({"epoch": epoch, "val_acc": float(value)}, None):
            break
    return stopper.best_epoch


def per_seed_noise(budget: Budget, y: jax.Array, fraction: float) -> jax.Array:
    """Training labels [seeds, N], each seed's `fraction` made wrong with its own key."""
    return jnp.stack([noisy_labels(run_keys(k).data, y, fraction)[0] for k in budget.keys()])


def fall_and_gain(val: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per seed, from curves [seeds, epochs]: the test accuracy at the validation peak minus
    the test accuracy of the last `LAST` epochs (the peak chosen on one split, the fall
    measured on another), and the test accuracy at the epoch early stopping keeps minus
    the same."""
    rows, end = np.arange(len(val)), end_of_training(test)
    kept = np.array([kept_epoch(v) for v in val])
    return test[rows, val.argmax(axis=1)] - end, test[rows, kept - 1] - end


def rise_and_fall(budget: Budget, images: Images) -> ClaimResult:
    """Claim 9: a small training split trained long, with 40% of its labels wrong (drawn per
    seed) and clean: does the test accuracy fall after the validation peak, and does early
    stopping on the clean validation split keep a better test accuracy than the end?"""
    n, n_val = budget.pick(2000, 500), budget.pick(1000, 500)
    (X, y), (Xt, yt) = images.train, images.test
    if X.shape[0] < n + n_val:
        raise ArgumentError(
            f"rise_and_fall needs {n + n_val} training images ({n} to train on, {n_val} held "
            f"out), got {X.shape[0]}: pass the full training set"
        )
    num_test = budget.pick(5000, 500)
    data = Images(
        (X[:n], y[:n]), (X[n : n + n_val], y[n : n + n_val], Xt[:num_test], yt[:num_test])
    )
    epochs = budget.pick(60, 8)
    measured, parts, curves = {}, [], {}
    for setting, fraction in (("noisy", NOISE), ("clean", 0.0)):
        out = classifier_sweep(
            lambda *_: (
                mlp.model((784, 256, 10), scheme="xavier"),
                optax.adam(1e-3),
                scratch_loss(),
            ),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=64,
            evaluate=two_split_evaluate,
            labels=per_seed_noise(budget, y[:n], fraction) if fraction else None,
        )
        val, test = out["test"]["val_acc"], out["test"]["acc"]  # [seeds, epochs]
        fall, gain = (estimate(v) for v in fall_and_gain(val, test))
        measured[f"{setting}: epoch of the validation peak"] = estimate(val.argmax(1) + 1)
        measured[f"{setting}: test acc, mean of the last {LAST} epochs"] = estimate(
            end_of_training(test)
        )
        measured[f"{setting}: {FALL}"] = fall
        measured[f"{setting}: {GAIN}"] = gain
        primary = setting == "noisy"
        parts += [
            direction(f"{setting}: {FALL}", fall, +1, threshold=VISIBLE, primary=primary),
            direction(f"{setting}: {GAIN}", gain, +1, primary=primary),
        ]
        curves[f"{setting}: clean validation"] = curve_estimates(val)
        curves[f"{setting}: test"] = curve_estimates(test)
    return claim_result(
        9,
        "rise_and_fall",
        "If test accuracy rises and then falls after many epochs, is that overfitting, and "
        "can we stop early? Very likely; keep training to see whether it keeps falling.",
        f"MLP 784-256-10 (Xavier), Adam 1e-3, batch 64, {epochs} epochs on {n} training "
        f"images, with {NOISE:.0%} of their labels made wrong (drawn per seed) and clean; "
        f"the peak and early stopping (patience {PATIENCE}) on {n_val} clean held-out "
        f"images, the fall on {num_test} test images; {budget.seeds} seeds",
        f"primary (noisy labels): the test accuracy at the validation peak minus the mean of "
        f"the last {LAST} epochs above {VISIBLE} (a visible fall), and the test accuracy at "
        "the epoch early stopping keeps minus the same above 0 (t tests); secondary: the "
        "same with clean labels",
        measured,
        epoch_figure(curves, epochs, "accuracy"),
        parts=parts,
    )
