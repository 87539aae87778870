"""Claim 10 (the course note's MLP exercise on initialisation): zero init's symmetry, He
with ReLU, and pre-training as an initialisation (`models.pretrain`), each against a
comparator fixed before the run."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction, exact
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
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
from jaxd2l.chapters.classification import scratch_loss
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import Model
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, pretrain

SIZES, TARGET = (784, 256, 256, 256, 10), 0.6  # a target the default budget can reach
LR = {"sigmoid": 0.5, "relu": 0.1}  # SGD's rate per activation (0.5 made deep ReLU diverge)
SYMMETRY_PART = "zero init: the first layer's largest spread across hidden units"
ZERO_PART = "sigmoid: zeros - Xavier test acc"
HE_PART = "relu: He - normal(0.01) test acc"
PRETRAIN_PART = "sigmoid: pre-trained - Xavier test acc"


def pretrained_stack(budget: Budget, X, sizes, epochs: int) -> list:
    """One pre-trained params list per seed, stacked on axis 0 (each from the seed's init key)."""
    done = [
        pretrain.init(run_keys(k).init, X, sizes, jax.nn.sigmoid, epochs=epochs)
        for k in budget.keys()
    ]
    return jax.tree.map(lambda *leaves: np.stack(leaves), *[d.params for d in done]), done


def _sweep(budget: Budget, data: Images, sizes, activation: str, scheme: str, epochs: int):
    """Test-accuracy curves [seeds, epochs] and the trained params of one init scheme."""
    out = classifier_sweep(
        lambda *_: (
            mlp.model(sizes, activation=activation, scheme=scheme),
            optax.sgd(LR[activation]),
            scratch_loss(),
        ),
        budget.keys(),
        data,
        epochs=epochs,
        batch_size=128,
        after=lambda model, params, *_: first_layer_spread(params[0]["W"]),
    )
    return out["test"]["acc"], out["after"]


def first_layer_spread(W: jax.Array) -> jax.Array:
    """How different the first layer's hidden units are: the largest per-input standard
    deviation across units (columns of W). Zero init's symmetry keeps it at 0 (rank <= 1)."""
    return jnp.max(jnp.std(W, axis=1))


def pretraining(budget: Budget, images: Images) -> ClaimResult:
    """Claim 10: zero initialisation fails by symmetry (its hidden units stay identical)
    against Xavier on a deep sigmoid net; He against normal(0.01) on the same net with ReLU
    (the activation He is derived for); pre-training (greedy autoencoders) against Xavier.
    Every comparator is fixed here, none picked from the data."""
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    sizes = budget.pick(SIZES, (784, 32, 10))
    epochs = budget.pick(10, 2)
    acc, spread = {}, {}
    for scheme in ("zeros", "normal", "xavier"):
        acc["sigmoid", scheme], spread[scheme] = _sweep(
            budget, data, sizes, "sigmoid", scheme, epochs
        )
    for scheme in ("normal", "he"):
        acc["relu", scheme], _ = _sweep(budget, data, sizes, "relu", scheme, epochs)
    stacked, done = pretrained_stack(
        budget, fm.scale_images(data.train[0]), sizes, budget.pick(1, 1)
    )
    apply = mlp.model(sizes, activation="sigmoid").apply
    out = classifier_sweep(
        lambda _, params: (
            Model(lambda key: params, apply),
            optax.sgd(LR["sigmoid"]),
            scratch_loss(),
        ),
        budget.keys(),
        data,
        epochs=epochs,
        batch_size=128,
        per_seed=stacked,
    )
    acc["sigmoid", "pretrain"] = out["test"]["acc"]
    measured = {}
    for (activation, scheme), curves in acc.items():
        measured[f"{activation}, {scheme}: test acc, mean of the last {LAST} epochs"] = estimate(
            end_of_training(curves)
        )
        measured.update(reaching(curves, TARGET, f"{activation}, {scheme}: test acc"))
    for scheme, values in spread.items():
        measured[f"sigmoid, {scheme}: first layer's spread across hidden units"] = estimate(values)
    comparisons = {
        ZERO_PART: (("sigmoid", "zeros"), ("sigmoid", "xavier"), -1, True),
        HE_PART: (("relu", "he"), ("relu", "normal"), +1, False),
        PRETRAIN_PART: (("sigmoid", "pretrain"), ("sigmoid", "xavier"), +1, False),
    }
    parts = [exact(SYMMETRY_PART, float(np.max(spread["zeros"])), 1e-6)]
    for name, (a, b, side, primary) in comparisons.items():
        measured[name] = estimate(end_of_training(acc[a]) - end_of_training(acc[b]))
        parts.append(direction(name, measured[name], side, primary=primary))
    reconstruction = [[round(v, 3) for v in layer] for layer in done[0].losses]
    return claim_result(
        10,
        "pretraining",
        "Initialisation: zeros, random, Xavier, He, and pre-training.",
        f"MLP {'-'.join(map(str, sizes))}, sigmoid (zeros, normal(0.01), Xavier, "
        f"pre-trained) at SGD {LR['sigmoid']} and ReLU (normal(0.01), He) at SGD "
        f"{LR['relu']}, batch 128, {epochs} epochs on "
        f"{data.train[0].shape[0]} images; pretrain: one epoch of Adam 1e-3 per hidden "
        f"layer's autoencoder on the same images, no labels; {budget.seeds} seeds",
        "primary: zero init's hidden units stay identical (the first layer's largest spread "
        "across units at most 1e-6 in every seed: an oracle), and zero init's test accuracy "
        f"(mean of the last {LAST} epochs) minus Xavier's below 0 (t test); secondary: He - "
        "normal(0.01) with ReLU above 0, pre-training - Xavier above 0",
        measured,
        epoch_figure({f"{a}, {s}": curve_estimates(c) for (a, s), c in acc.items()}, epochs),
        parts=parts,
        details={"reconstruction_loss_seed0": reconstruction},
    )
