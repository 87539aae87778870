"""Claims 1 and 2 (d2l 3.1-3.4's readers' questions), on the chapter's synthetic data:
y = X [2, -3.4] + 4.2 + noise, 1000 examples, minibatch SGD."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.chapters.claims.decide import equivalence, exact
from jaxd2l.chapters.claims.result import ClaimResult, claim_result
from jaxd2l.chapters.claims.sweeps import Budget, curve_estimates
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.core.drivers import make_train
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.history import breaks_rule
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import make_train_step
from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression
from jaxd2l.models import linear
from jaxd2l.nn.losses import huber_loss, l1_loss, squared_loss

LOSSES = {"squared": squared_loss, "l1": l1_loss, "huber": huber_loss}
OUTLIER_RATE, OUTLIER_SCALE = 0.05, 10.0
CONVERGED = 0.05  # parameter error below which a run counts as converged
MARGIN_ERROR = 0.02  # "little difference" in parameter error (true |w| + |b| is about 9.6)


def regression_run(key, loss, outlier_rate, *, num_examples, epochs, batch_size, lr):
    """Minibatch SGD on the synthetic data (a fraction `outlier_rate` of the targets shifted
    by N(0, 10^2)); the parameter error (the L1 distance of w and b from the truth) after
    every step [steps]."""
    keys = run_keys(key)
    X, y = synthetic_regression(keys.data, num_examples=num_examples)
    hit_key, size_key = jax.random.split(jax.random.fold_in(keys.data, 7))
    hit = jax.random.uniform(hit_key, y.shape) < outlier_rate
    y = jnp.where(hit, y + OUTLIER_SCALE * jax.random.normal(size_key, y.shape), y)
    model, tx = linear.model(X.shape[1]), optax.sgd(lr)
    step = make_train_step(model.apply, loss, tx)
    true_w = jnp.asarray(TRUE_W)

    def step_and_error(state, batch):  # the error after every step, as a per-batch sum
        state, sums = step(state, batch)
        p = state.params
        return state, {**sums, "error": jnp.abs(p["w"] - true_w).sum() + jnp.abs(p["b"] - TRUE_B)}

    epoch = make_epoch(step_and_error, batch_size, per_batch=True)
    trained = make_train(model.init, tx, epoch, epochs)(key, (X, y))
    sums = dict(trained.train)
    errors = sums.pop("error")
    return trained.state.params, errors.reshape(-1), sums


def squared_vs_absolute(budget: Budget, images=None) -> ClaimResult:
    """Claim 1: squared, absolute (L1) and Huber loss, with Gaussian noise and with 5% gross
    outliers: parameter error after training and steps to converge."""
    epochs, keys = budget.pick(3, 1), budget.keys()
    settings = {"num_examples": 1000, "epochs": epochs, "batch_size": 10, "lr": 0.03}
    measured, curves, parts = {}, {}, []
    for noise, rate in (("gaussian", 0.0), ("outliers", OUTLIER_RATE)):
        errors = {}
        for name, loss in LOSSES.items():
            run = jax.jit(
                jax.vmap(
                    lambda k, loss=loss, rate=rate: regression_run(k, loss, rate, **settings)[1]
                )
            )
            errors[name] = np.asarray(run(keys))
            steps = np.where(
                (errors[name] < CONVERGED).any(-1),
                (errors[name] < CONVERGED).argmax(-1) + 1,
                errors[name].shape[-1] + 1,
            )
            measured[f"{noise}: {name} parameter error"] = estimate(errors[name][:, -1])
            measured[f"{noise}: {name} steps to error < {CONVERGED}"] = estimate(steps)
            curves[f"{noise}, {name}"] = curve_estimates(np.log10(errors[name]))
        diff = estimate(errors["l1"][:, -1] - errors["squared"][:, -1])
        measured[f"{noise}: l1 - squared parameter error"] = diff
        parts.append(equivalence(f"{noise}: l1 - squared parameter error", diff, MARGIN_ERROR))
    steps = np.arange(1, errors["squared"].shape[-1] + 1)
    return claim_result(
        1,
        "squared_vs_absolute",
        "Squared rather than absolute loss? Little difference; squared was first used because "
        "it is differentiable.",
        f"synthetic regression, 1000 examples, noise N(0, 0.01^2) or plus 5% outliers "
        f"N(0, 10^2); SGD lr 0.03, batch 10, {epochs} epochs; {budget.seeds} seeds",
        f"per noise: the L1 - squared parameter error equivalent within +-{MARGIN_ERROR} "
        "(TOST); both parts primary",
        measured,
        {
            "kind": "curves",
            "x": steps.tolist(),
            "curves": curves,
            "xlabel": "SGD step",
            "ylabel": "log10 parameter error",
        },
        parts=parts,
    )


def sum_vs_mean(budget: Budget, images=None) -> ClaimResult:
    """Claim 2: a summed loss with lr / B reaches the mean loss's parameters with lr; the
    summed loss with lr unchanged breaks the divergence rule as the batch grows."""
    keys, lr, batch = budget.keys(), 0.03, 10
    settings = {"num_examples": 1000, "epochs": budget.pick(3, 1), "batch_size": batch}

    def pair(key):
        mean, _, _ = regression_run(key, squared_loss, 0.0, lr=lr, **settings)
        summed = lambda y_hat, y: batch * squared_loss(y_hat, y)  # noqa: E731
        total, _, _ = regression_run(key, summed, 0.0, lr=lr / batch, **settings)
        return jnp.maximum(jnp.abs(mean["w"] - total["w"]).max(), jnp.abs(mean["b"] - total["b"]))

    gaps = np.asarray(jax.jit(jax.vmap(pair))(keys))
    sizes = budget.pick((8, 32, 128, 512, 2048), (8, 128, 2048))
    broke = {}
    for size in sizes:
        summed = lambda y_hat, y, size=size: size * squared_loss(y_hat, y)  # noqa: E731
        run = lambda k, size=size, summed=summed: regression_run(  # noqa: E731
            k, summed, 0.0, num_examples=4096, epochs=1, batch_size=size, lr=lr
        )[2]["loss"]
        losses = np.asarray(jax.jit(jax.vmap(run))(keys)).reshape(len(keys), -1)  # [seeds, nb]
        last, first = losses[:, -1], losses[:, 0]
        broke[size] = breaks_rule(last, first)  # the drivers' divergence rule
    measured = {"max |params(sum, lr/B) - params(mean, lr)|": estimate(gaps)}
    for size in sizes:
        measured[f"summed loss, lr {lr}, batch {size}: share of seeds diverged"] = estimate(
            broke[size].astype(float)
        )
    first_broken = next((s for s in sizes if broke[s].all()), None)
    never = 1.0 - max(float(broke[s].mean()) for s in sizes)  # 0: some batch diverged always
    parts = [
        exact("summed loss with lr/B: max |params - params(mean loss, lr)|", gaps.max(), 1e-6),
        exact(
            "summed loss with lr unchanged: least share of seeds diverged, over the batch "
            "sizes, subtracted from 1",
            never,
            0.0,
        ),
    ]
    bars = {"diverged (share of seeds)": {str(s): (float(broke[s].mean()),) * 3 for s in sizes}}
    return claim_result(
        2,
        "sum_vs_mean",
        "Why average the loss? Without it gradients grow with n, so the learning rate must be "
        "divided by n.",
        f"synthetic regression; exact test: 1000 examples, batch {batch}, lr {lr} vs summed "
        f"loss with lr/{batch}; growth: 4096 examples, one epoch of the summed loss at lr {lr}, "
        f"batch {', '.join(map(str, sizes))}; {budget.seeds} seeds",
        "two exact parts: the summed loss with lr/B matches the mean loss with lr within "
        "1e-6, and with lr unchanged it breaks the divergence rule at some batch size of the "
        "grid in every seed",
        measured,
        {"kind": "bars", "groups": bars, "ylabel": "share of seeds diverged (batch size)"},
        parts=parts,
        details={"first_diverged_batch": first_broken, "max_gap": float(gaps.max())},
    )
