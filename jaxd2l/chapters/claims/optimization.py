"""Claims 3-5 (d2l 3.4-3.6's readers' questions) on Fashion-MNIST: the learning rate and
the optimizer, the batch size, and the last partial batch."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction, equivalence
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import Budget, Images, classifier_sweep, curve_estimates
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import scratch_loss
from jaxd2l.core.batching import batch_plan
from jaxd2l.core.keys import run_keys
from jaxd2l.models import mlp

OPTIMIZERS = {"sgd": optax.sgd, "adam": optax.adam}
WITHIN = 0.01  # "within one point of the best accuracy"


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


def batch_size(budget: Budget, images: Images) -> ClaimResult:
    """Claim 4: batch sizes 16-4096 after the same number of examples seen, with lr fixed
    and with lr scaled linearly: test accuracy and the train-test gap."""
    sizes = budget.pick((16, 64, 256, 1024, 4096), (16, 256, 1024))
    data = images.subset(budget.pick(8192, 1024), budget.pick(5000, 1000))
    epochs, lr = budget.pick(4, 1), 0.1
    acc, gap = {}, {}
    for size in sizes:
        rates = jnp.asarray([lr, lr * size / 256], jnp.float32)
        out = classifier_sweep(
            lambda rate, _: (_mlp(128), optax.sgd(rate), scratch_loss()),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=size,
            settings=rates,
        )
        test, train = out["test"]["acc"][..., -1], out["train"]["acc"][..., -1]
        for i, mode in enumerate(("lr fixed", "lr scaled")):
            acc[mode, size] = np.nan_to_num(test[i], nan=0.0)
            gap[mode, size] = np.nan_to_num(train[i] - test[i], nan=0.0)
    measured, parts, curves = {}, [], {}
    small, large = sizes[0], sizes[-1]
    for mode in ("lr fixed", "lr scaled"):
        for size in sizes:
            measured[f"{mode}, batch {size}: test acc"] = estimate(acc[mode, size])
            measured[f"{mode}, batch {size}: train - test acc"] = estimate(gap[mode, size])
        effect = estimate(acc[mode, small] - acc[mode, large])
        measured[f"{mode}: test acc, batch {small} - batch {large}"] = effect
        parts.append(direction(f"{mode}: test acc, smallest batch - largest batch", effect, +1))
        curves[f"{mode}: test acc"] = curve_estimates(np.stack([acc[mode, s] for s in sizes], 1))
    return claim_result(
        4,
        "batch_size",
        "lr and batch size under over/underfitting? In theory they do not change the final "
        "fit; a smaller batch converges more easily, since some noise helps generalisation.",
        f"MLP 784-128-10, SGD lr {lr} fixed or {lr} x B/256, {epochs} epochs over "
        f"{data.train[0].shape[0]} images (the same examples seen at every batch size); "
        f"{budget.seeds} seeds",
        f"per lr mode (primary): test acc(batch {small}) - test acc(batch {large}) above 0 "
        "(t test)",
        measured,
        {
            "kind": "curves",
            "x": list(sizes),
            "curves": curves,
            "xlabel": "batch size",
            "ylabel": "test accuracy",
            "logx": True,
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
    next pass (roll): how often each example is seen, and accuracy."""
    data = images.subset(budget.pick(5000, 1000), budget.pick(5000, 1000))
    n, size, epochs = int(data.train[0].shape[0]), budget.pick(1024, 384), budget.pick(5, 2)
    measured, acc = {}, {}
    for mode in ("pad", "drop", "roll"):
        out = classifier_sweep(
            lambda *_: (_mlp(128), optax.sgd(0.1), scratch_loss()),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=size,
            remainder=mode,
        )
        acc[mode] = out["test"]["acc"][:, -1]
        counts = np.stack([seen_counts(k, mode, n, size, epochs) for k in budget.keys()])
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
        f"{epochs} epochs; {budget.seeds} seeds",
        f"drop - pad and roll - pad test accuracy, each equivalent within +-{WITHIN} (TOST), "
        "both primary",
        measured,
        {"kind": "bars", "groups": bars, "ylabel": "mean and 95% interval"},
        parts=parts,
    )
