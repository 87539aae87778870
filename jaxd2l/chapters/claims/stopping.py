"""Claim 9 (d2l 3.6's readers' question, d2l-en 5.5): test accuracy that rises and then
falls, and the epoch early stopping keeps."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import Budget, Images, classifier_sweep, curve_estimates
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import classifier_evaluate, scratch_loss
from jaxd2l.core.errors import ArgumentError
from jaxd2l.core.hooks import EarlyStopping
from jaxd2l.core.step import summarize
from jaxd2l.data.noise import noisy_labels
from jaxd2l.models import mlp

NOISE, PATIENCE, VISIBLE = 0.4, 5, 0.01  # a fall is visible when it exceeds one point


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
    """The epoch (from 1) `core.hooks.EarlyStopping` keeps on a validation curve."""
    stopper = EarlyStopping(patience, monitor="val_acc")
    for epoch, value in enumerate(val_acc, start=1):
        if stopper.update({"epoch": epoch, "val_acc": float(value)}, None):
            break
    return stopper.best_epoch


def rise_and_fall(budget: Budget, images: Images) -> ClaimResult:
    """Claim 9: a small training split with 40% wrong labels, trained long: the clean
    validation and test accuracy rise, then fall as the net memorises the noise."""
    n, n_val = budget.pick(2000, 500), budget.pick(1000, 500)
    (X, y), (Xt, yt) = images.train, images.test
    if X.shape[0] < n + n_val:
        raise ArgumentError(
            f"rise_and_fall needs {n + n_val} training images ({n} to train on, {n_val} held "
            f"out), got {X.shape[0]}: pass the full training set"
        )
    noisy, _ = noisy_labels(jax.random.key(budget.seed), y[:n], NOISE)
    data = Images(
        (X[:n], noisy),
        (
            X[n : n + n_val],
            y[n : n + n_val],
            Xt[: budget.pick(5000, 500)],
            yt[: budget.pick(5000, 500)],
        ),
    )
    epochs = budget.pick(60, 8)
    out = classifier_sweep(
        lambda *_: (mlp.model((784, 256, 10), scheme="xavier"), optax.adam(1e-3), scratch_loss()),
        budget.keys(),
        data,
        epochs=epochs,
        batch_size=64,
        evaluate=two_split_evaluate,
    )
    val, test = out["test"]["val_acc"], out["test"]["acc"]  # [seeds, epochs]
    kept = np.array([kept_epoch(v) for v in val])
    at_kept = test[np.arange(len(kept)), kept - 1]
    drop, gain = estimate(val.max(1) - val[:, -1]), estimate(at_kept - test[:, -1])
    measured = {
        "clean validation: peak - final accuracy": drop,
        "epoch of the validation peak": estimate(val.argmax(1) + 1),
        f"epoch early stopping keeps (patience {PATIENCE})": estimate(kept),
        "test acc at the kept epoch": estimate(at_kept),
        "test acc after the last epoch": estimate(test[:, -1]),
        "test acc: kept - last epoch": gain,
    }
    parts = [
        direction("clean validation: peak - final accuracy", drop, +1, threshold=VISIBLE),
        direction("test acc: kept - last epoch", gain, +1),
    ]
    return claim_result(
        9,
        "rise_and_fall",
        "If test accuracy rises and then falls after many epochs, is that overfitting, and "
        "can we stop early? Very likely; keep training to see whether it keeps falling.",
        f"MLP 784-256-10 (Xavier), Adam 1e-3, batch 64, {epochs} epochs on {n} training "
        f"images with {NOISE:.0%} wrong labels; early stopping on {n_val} clean held-out "
        f"images; {budget.seeds} seeds",
        f"primary: the validation accuracy's peak - final above {VISIBLE} (a visible fall), "
        "and the test accuracy at the epoch early stopping keeps minus the last epoch's "
        "above 0 (t tests)",
        measured,
        {
            "kind": "curves",
            "x": list(range(1, epochs + 1)),
            "curves": {
                "clean validation": curve_estimates(val),
                "test": curve_estimates(test),
                "training (noisy labels)": curve_estimates(out["train"]["acc"]),
            },
            "xlabel": "epoch",
            "ylabel": "accuracy",
        },
        parts=parts,
    )
