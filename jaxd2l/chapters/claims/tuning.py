"""Claim 11 (the course note's MLP exercise on tuning): widths that shrink toward the
output, deep-and-narrow against shallow-and-wide at equal parameter counts, and how much
of the variance in test accuracy the activation explains (a factorial design, ANOVA)."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from jaxd2l.chapters.claims.decide import direction
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import Budget, Images, classifier_sweep
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import scratch_loss
from jaxd2l.models import mlp

FACTORS = ("activation", "lr", "width", "depth")


def parameter_count(widths) -> int:
    """Weights and biases of an MLP 784-widths-10."""
    sizes = (784, *widths, 10)
    return sum(m * n + n for m, n in zip(sizes[:-1], sizes[1:], strict=True))


def at_count(pattern, target: int) -> tuple[int, ...]:
    """The widths `pattern(h)` whose parameter count is nearest `target` (h = 1..4096)."""
    return min((pattern(h) for h in range(1, 4097)), key=lambda w: abs(parameter_count(w) - target))


def shapes(target: int) -> dict[str, tuple[int, ...]]:
    """The architectures of parts (a) and (b), all with about `target` parameters."""
    return {
        "shrinking": at_count(lambda h: (4 * h, 2 * h, h), target),
        "constant": at_count(lambda h: (h, h, h), target),
        "growing": at_count(lambda h: (h, 2 * h, 4 * h), target),
        "shallow-wide (1 layer)": at_count(lambda h: (h,), target),
        "deep-narrow (5 layers)": at_count(lambda h: (h,) * 5, target),
    }


def variance_shares(frame: pd.DataFrame) -> dict[str, float]:
    """Each factor's share of the total sum of squares of test accuracy (main effects,
    type II ANOVA through statsmodels); the rest is interactions and noise."""
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    formula = "acc ~ " + " + ".join(f"C({f})" for f in FACTORS)
    table = sm.stats.anova_lm(ols(formula, data=frame).fit(), typ=2)
    total = float(((frame["acc"] - frame["acc"].mean()) ** 2).sum())
    return {f: float(table.loc[f"C({f})", "sum_sq"]) / total for f in FACTORS}


def train_architectures(budget, data, archs, epochs):
    """{name: (train acc, test acc) [seeds]} for ReLU MLPs of the given widths."""
    out = {}
    for name, widths in archs.items():
        run = classifier_sweep(
            lambda *_, w=widths: (
                mlp.model((784, *w, 10), scheme="he"),
                optax.sgd(0.1),
                scratch_loss(),
            ),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=128,
        )
        out[name] = (run["train"]["acc"][:, -1], run["test"]["acc"][:, -1])
    return out


ACTIVATIONS = ("relu", "sigmoid", "tanh")
LRS = (0.03, 0.3)


def switched(index):
    """The activation `ACTIVATIONS[index]` for a traced index (vmapped: all three computed
    and one selected, so one program trains every activation)."""
    branches = [getattr(jax.nn, name) for name in ACTIVATIONS]
    return lambda x: jax.lax.switch(index, branches, x)


def factorial(budget, data, epochs) -> pd.DataFrame:
    """Test accuracy of every cell of activation x lr x width x depth, per seed: one program
    per width and depth, the activations, learning rates and seeds vmapped."""
    grid = list(itertools.product(range(len(ACTIVATIONS)), LRS))
    settings = (jnp.asarray([a for a, _ in grid]), jnp.asarray([lr for _, lr in grid], jnp.float32))
    rows = []
    for width, depth in itertools.product((32, 128), (1, 2)):
        out = classifier_sweep(
            lambda setting, _, w=width, d=depth: (
                mlp.model((784, *(w,) * d, 10), activation=switched(setting[0]), scheme="xavier"),
                optax.sgd(setting[1]),
                scratch_loss(),
            ),
            budget.keys(),
            data,
            epochs=epochs,
            batch_size=128,
            settings=settings,
        )
        for i, (a, lr) in enumerate(grid):
            for seed, acc in enumerate(out["test"]["acc"][i, :, -1]):
                rows.append(
                    {
                        "activation": ACTIVATIONS[a],
                        "lr": lr,
                        "width": width,
                        "depth": depth,
                        "seed": seed,
                        "acc": float(acc),
                    }
                )
    return pd.DataFrame(rows)


def heuristics(budget: Budget, images: Images) -> ClaimResult:
    """Claim 11 (a, b, c) at equal parameter counts and over a factorial design."""
    data = images.subset(budget.pick(10000, 1000), budget.pick(5000, 1000))
    epochs, archs = budget.pick(5, 1), shapes(budget.pick(250_000, 60_000))
    accs = train_architectures(budget, data, archs, epochs)
    measured = {}
    for name, (train, test) in accs.items():
        measured[f"{name} {archs[name]}: test acc"] = estimate(test)
        measured[f"{name} {archs[name]}: train - test acc"] = estimate(train - test)
    test_of = {n: a[1] for n, a in accs.items()}
    gap_of = {n: a[0] - a[1] for n, a in accs.items()}
    shrink = estimate(test_of["shrinking"] - np.maximum(test_of["constant"], test_of["growing"]))
    deep_acc = estimate(test_of["deep-narrow (5 layers)"] - test_of["shallow-wide (1 layer)"])
    deep_gap = estimate(gap_of["deep-narrow (5 layers)"] - gap_of["shallow-wide (1 layer)"])
    measured["(a) shrinking - best of constant and growing, test acc"] = shrink
    measured["(b) deep - shallow test acc"] = deep_acc
    measured["(b) deep - shallow train-test gap"] = deep_gap
    frame = factorial(budget, data, budget.pick(2, 1))
    per_seed = [variance_shares(g) for _, g in frame.groupby("seed")]
    for f in FACTORS:
        measured[f"(c) share of variance: {f}"] = estimate([s[f] for s in per_seed])
    others = [min(s[f] for f in FACTORS[1:]) for s in per_seed]
    act = estimate([s["activation"] - o for s, o in zip(per_seed, others, strict=True)])
    measured["(c) activation's share - the smallest other factor's"] = act
    parts = [
        direction("(a) shrinking - best of constant and growing, test acc", shrink, +1),
        direction("(b) deep - shallow test acc", deep_acc, +1),
        direction("(b) deep - shallow train-test gap", deep_gap, -1),
        direction("(c) activation's share - the smallest other factor's", act, -1),
    ]
    return claim_result(
        11,
        "tuning",
        "Tuning: (a) widths shrink layer by layer toward the output; (b) deeper nets with "
        "fewer units train more easily and overfit less; (c) the activation matters less than "
        "the other factors.",
        f"ReLU MLPs (He) at about {parameter_count(archs['constant'])} parameters each, SGD "
        f"0.1, {epochs} epochs on {data.train[0].shape[0]} images; (c): activation "
        "{relu, sigmoid, tanh} x lr {0.03, 0.3} x width {32, 128} x depth {1, 2}, "
        f"{budget.pick(2, 1)} epochs, type II ANOVA per seed (statsmodels); {budget.seeds} seeds",
        "four primary parts (t tests): (a) shrinking's test acc minus the better of constant "
        "and growing above 0; (b) deep - shallow test acc above 0, and their train-test gap "
        "difference below 0; (c) the activation's share of variance minus the smallest "
        "other factor's below 0",
        measured,
        {
            "kind": "bars",
            "groups": {
                "test acc": {n: tuple(measured[f"{n} {archs[n]}: test acc"][:3]) for n in archs},
                "share of variance (c)": {
                    f: tuple(measured[f"(c) share of variance: {f}"][:3]) for f in FACTORS
                },
            },
            "ylabel": "mean and 95% interval",
        },
        parts=parts,
        details={
            "architectures": {n: list(w) for n, w in archs.items()},
            "anova_cells": frame.to_dict(orient="list"),
        },
    )
