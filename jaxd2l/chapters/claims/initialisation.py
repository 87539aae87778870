"""Claim 10 (the course note's MLP exercise on initialisation): pre-training as an
initialisation (`models.pretrain`) against normal(0.01), Xavier and He on a deep sigmoid MLP."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import direction
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import (
    Budget,
    Images,
    classifier_sweep,
    curve_estimates,
    first_reaching,
)
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import scratch_loss
from jaxd2l.core.keys import run_keys
from jaxd2l.core.model import Model
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, pretrain

SIZES, TARGET = (784, 256, 256, 256, 10), 0.6  # a target the default budget can reach
SCHEMES = ("normal", "xavier", "he")


def scheme_stds(sizes) -> jax.Array:
    """Each layer's weight std under normal(0.01), Xavier and He [3, layers]."""
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    return jnp.asarray(
        [
            [0.01] * len(pairs),
            [(2 / (m + n)) ** 0.5 for m, n in pairs],
            [(2 / m) ** 0.5 for m, _ in pairs],
        ],
        jnp.float32,
    )


def scaled_normal(sizes, stds):
    """`init(key)`: layer l's W ~ N(0, stds[l]^2), b = 0, drawn as `mlp.init` draws them (so a
    scheme's std reproduces `mlp.init(key, sizes, scheme)` exactly)."""

    def init(key):
        keys = jax.random.split(key, len(sizes) - 1)
        return [
            {"W": std * jax.random.normal(k, (m, n)), "b": jnp.zeros(n)}
            for k, std, m, n in zip(keys, stds, sizes[:-1], sizes[1:], strict=True)
        ]

    return init


def pretrained_stack(budget: Budget, X, sizes, epochs: int) -> list:
    """One pre-trained params list per seed, stacked on axis 0 (each from the seed's init key)."""
    done = [
        pretrain.init(run_keys(k).init, X, sizes, jax.nn.sigmoid, epochs=epochs)
        for k in budget.keys()
    ]
    return jax.tree.map(lambda *leaves: np.stack(leaves), *[d.params for d in done]), done


def pretraining(budget: Budget, images: Images) -> ClaimResult:
    """Claim 10: greedy layer-wise autoencoder pre-training, then fine-tuning, against the
    three random schemes: epochs to a target test accuracy and the final accuracy."""
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    sizes = budget.pick(SIZES, (784, 32, 10))
    epochs, lr = budget.pick(10, 2), 0.5
    stacked, done = pretrained_stack(
        budget, fm.scale_images(data.train[0]), sizes, budget.pick(1, 1)
    )
    apply = mlp.model(sizes, activation="sigmoid").apply
    acc = {}
    for scheme in SCHEMES:
        out = classifier_sweep(
            lambda *_, s=scheme: (
                mlp.model(sizes, activation="sigmoid", scheme=s),
                optax.sgd(lr),
                scratch_loss(),
            ),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=128,
        )
        acc[scheme] = out["test"]["acc"]
    out = classifier_sweep(
        lambda _, params: (Model(lambda key: params, apply), optax.sgd(lr), scratch_loss()),
        budget.keys(),
        data,
        epochs=epochs,
        batch_size=128,
        per_seed=stacked,
    )
    acc["pretrain"] = out["test"]["acc"]
    measured = {}
    for name, curves in acc.items():
        measured[f"{name}: final test acc"] = estimate(curves[:, -1])
        measured[f"{name}: epochs to test acc {TARGET}"] = estimate(first_reaching(curves, TARGET))
    best = max(SCHEMES, key=lambda s: measured[f"{s}: final test acc"].mean)
    effect = estimate(acc["pretrain"][:, -1] - acc[best][:, -1])
    measured[f"pretrain - {best} (the best random scheme) final test acc"] = effect
    reconstruction = [[round(v, 3) for v in layer] for layer in done[0].losses]
    part = direction("pretrain - the best random scheme, final test acc", effect, +1)
    return claim_result(
        10,
        "pretraining",
        "Initialisation: zeros, random, Xavier, He, and pre-training.",
        f"sigmoid MLP {'-'.join(map(str, sizes))}, SGD {lr}, batch 128, {epochs} epochs on "
        f"{data.train[0].shape[0]} images; pretrain: one epoch of Adam 1e-3 per hidden layer's "
        f"autoencoder on the same images, no labels; {budget.seeds} seeds",
        "primary: pretrain's final test acc minus the best random scheme's above 0 (t test)",
        measured,
        {
            "kind": "curves",
            "x": list(range(1, epochs + 1)),
            "curves": {n: curve_estimates(c) for n, c in acc.items()},
            "xlabel": "epoch",
            "ylabel": "test accuracy",
        },
        parts=[part],
        details={"reconstruction_loss_seed0": reconstruction, "best_random_scheme": best},
    )
