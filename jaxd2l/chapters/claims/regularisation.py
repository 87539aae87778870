"""Claim 12 (the course note's answer to the linear-regression section's fifth question,
added in the second pass and numbered after the first eleven so theirs stay):
regularisation is of little use in deep learning. Weight decay and dropout on the
chapter's MLP, at the chapter's scale."""

from __future__ import annotations

import jax
import optax

from jaxd2l.chapters.claims.decide import direction, equivalence
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
)
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import scratch_loss
from jaxd2l.models import mlp
from jaxd2l.nn.regularization import decayed_sgd

SIZES, LR, EPOCHS = (784, 256, 10), 0.1, 10  # the chapter's net, rate and epochs
WEIGHT_DECAY, DROPOUT = 5e-4, 0.5  # the usual strengths, fixed before the run
WITHIN = 0.01  # "of little use": within one point of test accuracy
SETTINGS = {
    "none": (0.0, 0.0),
    f"weight decay {WEIGHT_DECAY:g}": (WEIGHT_DECAY, 0.0),
    f"dropout {DROPOUT:g}": (0.0, DROPOUT),
}


def _make(weight_decay: float, rate: float):
    """`make` for `classifier_sweep`: the chapter's MLP with dropout `rate` after its hidden
    layer, SGD with weight decay on the weight matrices (`decayed_sgd`)."""
    model = mlp.model(SIZES, dropout=(rate,) if rate else ())
    shapes = jax.eval_shape(model.init, jax.random.key(0))
    tx = decayed_sgd(LR, weight_decay, shapes) if weight_decay else optax.sgd(LR)
    return lambda *_: (model, tx, scratch_loss())


def weight_decay_and_dropout(budget: Budget, images: Images) -> ClaimResult:
    """Claim 12: test accuracy (the mean of the last epochs) with weight decay and with
    dropout against none, each an equivalence within one point; the train - test gap each
    one closes, secondary."""
    data = images.subset(budget.pick(60000, 1000), budget.pick(10000, 400))
    (X, y), (Xt, yt) = data.train, data.test
    seen = budget.pick(10000, 400)  # training images evaluated as the test images are
    data = Images((X, y), (X[:seen], y[:seen], Xt, yt))
    epochs = budget.pick(EPOCHS, 2)
    test, gap, curves = {}, {}, {}
    for name, (weight_decay, rate) in SETTINGS.items():
        out = classifier_sweep(
            _make(weight_decay, rate),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=256,
            evaluate=two_split_evaluate,  # train accuracy without dropout, after each epoch
        )
        acc, train = out["test"]["acc"], out["test"]["val_acc"]  # [seeds, epochs]
        test[name] = end_of_training(acc)
        gap[name] = end_of_training(train - acc)
        curves[name] = curve_estimates(acc)
    measured, parts = {}, []
    for name in SETTINGS:
        measured[f"{name}: test acc, mean of the last {LAST} epochs"] = estimate(test[name])
        measured[f"{name}: train - test acc, same epochs (train: {seen} images, no dropout)"] = (
            estimate(gap[name])
        )
    for name in list(SETTINGS)[1:]:
        effect = estimate(test[name] - test["none"])
        closes = estimate(gap[name] - gap["none"])
        measured[f"{name} - none: test acc"] = effect
        measured[f"{name} - none: train - test acc"] = closes
        parts.append(equivalence(f"{name} - none: test acc", effect, WITHIN))
        parts.append(direction(f"{name} - none: train - test acc", closes, -1, primary=False))
    n = int(data.train[0].shape[0])
    return claim_result(
        12,
        "regularisation",
        "Is regularisation (weight decay, dropout) needed? In deep learning it is of little use.",
        f"MLP {'-'.join(map(str, SIZES))} (ReLU, normal(0.01)), SGD {LR}, batch 256, "
        f"{epochs} epochs on {n} images; none, weight decay {WEIGHT_DECAY:g} on the weight "
        f"matrices, or dropout {DROPOUT:g} after the hidden layer; {budget.seeds} seeds",
        f"primary: per regulariser, its test acc (mean of the last {LAST} epochs) minus "
        f"none's equivalent within +-{WITHIN} (TOST); secondary: the train - test gap it "
        f"closes (below 0, t test; train accuracy on {seen} training images in evaluation "
        "mode, so dropout's noise is not counted as a gap)",
        measured,
        epoch_figure(curves, epochs),
        parts=parts,
    )
