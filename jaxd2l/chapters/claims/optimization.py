"""Claims 3-5 (d2l 3.4-3.6's readers' questions) on Fashion-MNIST: the learning rate and
the optimizer, the batch size, and the last partial batch."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction, equivalence
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import (
    LAST,
    Budget,
    Images,
    classifier_sweep,
    curve_estimates,
    end_of_training,
)
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import scratch_loss
from jaxd2l.core.batching import batch_plan
from jaxd2l.core.keys import run_keys
from jaxd2l.models import mlp

OPTIMIZERS = {"sgd": optax.sgd, "adam": optax.adam}
WITHIN = 0.01  # "within one point of the best accuracy"
SCALED_PART = "lr scaled, equal examples: test acc, small batch - large batch"
GAP_PART = "lr fixed: train - test acc gap at matched training loss, small batch - large batch"


def _mlp(hidden: int, scheme: str = "normal"):
    return mlp.model((784, hidden, 10), scheme=scheme)


def learning_rate(budget: Budget, images: Images) -> ClaimResult:
    """Claim 3: SGD vs Adam over learning rates spanning five decades (one program per
    optimizer and init): how wide a range stays within one point of the best accuracy."""
    lrs = np.logspace(-4, 1, budget.pick(11, 6))
    decades = float(np.log10(lrs[1] / lrs[0]))
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    epochs, measured, curves, widths, best = budget.pick(3, 1), {}, {}, {}, {}
    schemes = budget.pick(("normal", "xavier"), ("xavier",))
    for scheme in schemes:
        for name, make_tx in OPTIMIZERS.items():
            out = classifier_sweep(
                lambda lr, _, make_tx=make_tx, scheme=scheme: (
                    _mlp(64, scheme),
                    make_tx(lr),
                    scratch_loss(),
                ),
                budget.keys(),
                data,
                epochs=epochs,
                batch_size=256,
                settings=jnp.asarray(lrs, jnp.float32),
            )
            acc = np.nan_to_num(out["test"]["acc"][..., -1].T, nan=0.0)  # [seeds, lrs]
            near = acc >= acc.max(axis=1, keepdims=True) - WITHIN
            widths[name, scheme] = near.sum(axis=1) * decades  # decades within a point
            measured[f"{name}, {scheme} init: decades within {WITHIN} of best"] = estimate(
                widths[name, scheme]
            )
            best[name, scheme] = acc.max(axis=1)
            measured[f"{name}, {scheme} init: best test acc"] = estimate(best[name, scheme])
            curves[f"{name}, {scheme}"] = curve_estimates(acc)
    parts = []
    for scheme in schemes:
        effect = estimate(widths["adam", scheme] - widths["sgd", scheme])
        measured[f"{scheme} init: adam - sgd decades"] = effect
        parts.append(direction(f"{scheme} init: adam - sgd decades", effect, +1))
    for name in OPTIMIZERS if len(schemes) == 2 else ():
        effect = estimate(best[name, "xavier"] - best[name, "normal"])
        measured[f"{name}: xavier - normal best test acc"] = effect
        parts.append(direction(f"{name}: xavier - normal best test acc", effect, +1, primary=False))
    return claim_result(
        3,
        "learning_rate",
        "How to find a good learning rate? Use an optimizer insensitive to it, such as Adam, "
        "and a sensible initialisation.",
        f"MLP 784-64-10 (ReLU), {len(lrs)} learning rates 1e-4..10 (log grid), {epochs} "
        f"epochs, batch 256, {data.train[0].shape[0]} training images; {budget.seeds} seeds",
        "per init (primary): Adam's - SGD's width of the lr range within "
        f"{WITHIN} of its best accuracy above 0 (t test); Xavier - normal best accuracy "
        "per optimizer above 0 (secondary)",
        measured,
        {
            "kind": "curves",
            "x": lrs.tolist(),
            "curves": curves,
            "xlabel": "learning rate",
            "ylabel": "test accuracy",
            "logx": True,
        },
        parts=parts,
    )


def matched_gap(train_loss, train_acc, test_acc) -> np.ndarray:
    """Per seed, the large batch's train - test accuracy at its first epoch whose training
    loss is at most the small batch's final one (`train_*`/`test_acc` are pairs (small,
    large) of [seeds, epochs] curves); NaN where it never gets there."""
    (small_loss, large_loss), (_, large_train), (_, large_test) = train_loss, train_acc, test_acc
    reached = large_loss <= small_loss[:, -1:]
    at = reached.argmax(axis=1)
    gap = large_train[np.arange(len(at)), at] - large_test[np.arange(len(at)), at]
    return np.where(reached.any(axis=1), gap, np.nan)


def at_end(mode: str, size: int) -> str:
    """Claim 4's name for one run's endpoint."""
    return f"{mode}, batch {size}: test acc, mean of the last {LAST} epochs"


def batch_size(budget: Budget, images: Images) -> ClaimResult:
    """Claim 4, both halves. The first ("in theory lr and batch size do not change the
    final fit"): with lr scaled by the batch (the linear rule, whose theory holds at equal
    examples seen) a small and a large batch reach the same test accuracy: an equivalence.
    The second ("a smaller batch generalises better, some noise helps"): at lr fixed and an
    equal number of updates, the train - test gap at matched training loss."""
    sizes = budget.pick((32, 512), (32, 256))
    data = images.subset(budget.pick(8192, 1024), budget.pick(5000, 1000))
    n, updates, lr = int(data.train[0].shape[0]), budget.pick(1024, 64), 0.1
    scaled_epochs = budget.pick(48, 2)
    curves = {}
    for size in sizes:
        runs = {  # mode -> (learning rate, epochs); n is a multiple of both sizes
            "lr fixed": (lr, max(1, updates * size // n)),
            "lr scaled": (lr * size / 256, scaled_epochs),
        }
        for mode, (rate, epochs) in runs.items():
            out = classifier_sweep(
                lambda *_, rate=rate: (_mlp(128), optax.sgd(rate), scratch_loss()),
                budget.keys(),
                data,
                epochs=epochs,
                batch_size=size,
            )
            for split, field in (("train", "loss"), ("train", "acc"), ("test", "acc")):
                curves[mode, size, f"{split} {field}"] = np.asarray(out[split][field])
    small, large = sizes
    measured, last = {}, {}
    for mode in ("lr fixed", "lr scaled"):
        for size in sizes:
            test, train = curves[mode, size, "test acc"], curves[mode, size, "train acc"]
            last[mode, size] = np.nan_to_num(end_of_training(test), nan=0.0)
            measured[at_end(mode, size)] = estimate(last[mode, size])
            loss, gap_end = curves[mode, size, "train loss"][:, -1], train[:, -1] - test[:, -1]
            measured[f"{mode}, batch {size}: final train loss"] = estimate(loss)
            measured[f"{mode}, batch {size}: final train - test acc"] = estimate(gap_end)
    measured["lr fixed, equal updates: test acc, small batch - large batch"] = estimate(
        last["lr fixed", small] - last["lr fixed", large]
    )
    scaled = estimate(last["lr scaled", small] - last["lr scaled", large])
    measured[SCALED_PART] = scaled
    pairs = [
        tuple(curves["lr fixed", s, k] for s in sizes)
        for k in ("train loss", "train acc", "test acc")
    ]
    small_gap = pairs[1][0][:, -1] - pairs[2][0][:, -1]
    gap = estimate(small_gap - matched_gap(*pairs))  # NaN (undecided) if one never got there
    measured[GAP_PART] = gap
    parts = [equivalence(SCALED_PART, scaled, WITHIN), direction(GAP_PART, gap, -1)]
    fixed_epochs = [max(1, updates * s // n) for s in sizes]
    return claim_result(
        4,
        "batch_size",
        "lr and batch size under over/underfitting? In theory they do not change the final "
        "fit; a smaller batch converges more easily, since some noise helps generalisation.",
        f"MLP 784-128-10 on {n} images, batch {small} and {large}: lr {lr} x B/256 for "
        f"{scaled_epochs} epochs each (equal examples seen); lr {lr} for {updates} updates "
        f"each ({fixed_epochs[0]} and {fixed_epochs[1]} epochs); {budget.seeds} seeds",
        f"primary: with lr scaled, test acc (mean of the last {LAST} epochs) of batch {small} "
        f"minus batch {large} equivalent within +-{WITHIN} (TOST); with lr fixed and equal "
        f"updates, the train - test accuracy gap of batch {small} (final) minus batch "
        f"{large}'s at the first epoch its training loss reaches batch {small}'s final one, "
        "below 0 (t test; a large batch that never gets there leaves it undecided)",
        measured,
        {
            "kind": "bars",
            "groups": {
                f"{m}: test acc": {f"batch {s}": tuple(measured[at_end(m, s)][:3]) for s in sizes}
                for m in ("lr fixed", "lr scaled")
            },
            "ylabel": "mean and 95% interval",
        },
        parts=parts,
    )


def seen_counts(key, mode: str, num_examples: int, size: int, epochs: int) -> np.ndarray:
    """How often each example is trained on in `epochs` epochs of one remainder mode."""
    counts = np.zeros(num_examples, int)
    train = run_keys(key).train
    for e in range(epochs):
        idx, mask = batch_plan(train, e, num_examples, size, mode)
        np.add.at(counts, np.asarray(idx)[np.asarray(mask)], 1)
    return counts


def remainder(budget: Budget, images: Images) -> ClaimResult:
    """Claim 5: the last partial batch kept (padded and masked), dropped, or filled from the
    next pass (roll), each for the same number of updates (an epoch of pad has one more
    than an epoch of drop or roll): how often each example is seen, and accuracy."""
    data = images.subset(budget.pick(5000, 1000), budget.pick(5000, 1000))
    n, size = int(data.train[0].shape[0]), budget.pick(1024, 384)
    updates = budget.pick(400, 6)  # a multiple of both ceil(n / B) and floor(n / B)
    measured, acc, epochs = {}, {}, {}
    for mode in ("pad", "drop", "roll"):
        per_epoch = -(-n // size) if mode == "pad" else n // size
        epochs[mode] = updates // per_epoch
        out = classifier_sweep(
            lambda *_: (_mlp(128), optax.sgd(0.1), scratch_loss()),
            budget.keys(),
            data,
            epochs=epochs[mode],
            batch_size=size,
            remainder=mode,
        )
        acc[mode] = end_of_training(out["test"]["acc"])
        counts = np.stack([seen_counts(k, mode, n, size, epochs[mode]) for k in budget.keys()])
        measured[f"{mode}: test acc"] = estimate(acc[mode])
        measured[f"{mode}: spread of times seen (std over examples)"] = estimate(counts.std(1))
        measured[f"{mode}: share never seen"] = estimate((counts == 0).mean(1))
    parts = []
    for mode in ("drop", "roll"):
        effect = estimate(acc[mode] - acc["pad"])
        measured[f"{mode} - pad test acc"] = effect
        parts.append(equivalence(f"{mode} - pad test acc", effect, WITHIN))
    bars = {
        "test acc": {m: tuple(measured[f"{m}: test acc"][:3]) for m in acc},
        "std of times seen": {
            m: tuple(measured[f"{m}: spread of times seen (std over examples)"][:3]) for m in acc
        },
    }
    return claim_result(
        5,
        "remainder",
        "If the examples are not a multiple of the batch size? Keep the remainder as a "
        "smaller batch, drop it, or fill it from the next epoch.",
        f"MLP 784-128-10, SGD 0.1, {n} images in batches of {size} ({n % size} left over), "
        f"{updates} updates each ({epochs['pad']} epochs of pad, {epochs['drop']} of drop "
        f"and roll); {budget.seeds} seeds",
        f"drop - pad and roll - pad test accuracy (mean of the last {LAST} epochs), each "
        f"equivalent within +-{WITHIN} (TOST), both primary",
        measured,
        {"kind": "bars", "groups": bars, "ylabel": "mean and 95% interval"},
        parts=parts,
    )
