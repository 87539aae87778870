"""d2l 4.9's two studies of distribution shift end to end, from plain arguments: covariate
shift corrected by a domain classifier's importance weights, and label shift corrected by
the confusion matrix's prior estimate (the pieces are in `distribution_shift`)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.chapters.classification import scratch_loss, train_classifier
from jaxd2l.chapters.distribution_shift import (
    SOURCE,
    TARGET,
    covariate_data,
    fit_domain_classifier,
    fit_weighted_lines,
    importance_weights,
    line_loss,
    true_log_ratio,
)
from jaxd2l.chapters.label_shift import check_invertible, confusion_matrix, label_shift_sweep
from jaxd2l.core.keys import RunKeys
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import softmax
from jaxd2l.nn.optim import sgd


def covariate_shift_study(
    key: jax.Array, num_source: int = 2000, noise: float = 0.3, clip: float = 10.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """d2l 4.9's covariate shift end to end: draw source and target, fit the domain
    classifier, fit the line unweighted, with the true and with the estimated importance
    weights (one vmapped program), and score each on target draws.

    Returns:
      (figures, data for `shift_figures.save_covariate_shift`).
    """
    k_source, k_target, k_test = jax.random.split(key, 3)
    n = num_source
    xs, ys = covariate_data(k_source, n, SOURCE, noise)
    xt, _ = covariate_data(k_target, n, TARGET, noise)  # x only: unlabelled
    x_test, y_test = covariate_data(k_test, 10 * n, TARGET, noise)
    h = fit_domain_classifier(xs, xt)
    true = jnp.minimum(jnp.exp(true_log_ratio(xs[:, 0])), clip)
    estimated = importance_weights(h, xs, clip)
    names = ("unweighted", "true ratio", "estimated ratio")
    lines = fit_weighted_lines(xs, ys, jnp.stack([jnp.ones(n), true, estimated]))
    losses = line_loss(lines, x_test, y_test)
    final = {
        "target_loss": dict(zip(names, map(float, losses), strict=True)),
        "noise_floor": noise**2,
        "weights_log_error_median": float(jnp.median(jnp.abs(jnp.log(estimated / true)))),
        "domain_classifier": {"w": np.asarray(h[0]).tolist(), "b": float(h[1])},
    }
    fitted = dict(zip(names, zip(*lines, strict=True), strict=True))
    figure = {
        "xs": xs,
        "ys": ys,
        "x_test": x_test,
        "lines": fitted,
        "true": true,
        "estimated": estimated,
    }
    return final, figure


def label_shift_study(
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    test: tuple[Any, Any],
    keys: RunKeys,
    *,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 256,
    severities: int = 6,
    target_size: int = 5000,
) -> dict[str, Any]:
    """d2l 4.9's label shift on Fashion-MNIST end to end: train softmax regression on
    `train`, estimate its confusion matrix on `val`, then for `severities` skews of the
    priors (uniform to geometric, in one vmapped program) draw target sets from `test`,
    estimate their priors and correct the predictions.

    Returns:
      the severities, the validation accuracy, and the sweep's figures per severity.
    """
    X_test, y_test = test
    model = softmax.model()
    result = train_classifier(
        model,
        sgd(lr),
        scratch_loss(),
        train,
        val,
        epochs=epochs,
        batch_size=batch_size,
        key=keys.root,
    )

    def probabilities(images):
        return jax.nn.softmax(model.apply(result.params, fm.scale_images(images)))

    confusion = confusion_matrix(jnp.argmax(probabilities(val[0]), 1), val[1], 10)
    check_invertible(confusion, f"estimate it on more val_size examples than {len(val[1])}")
    source_priors = jnp.bincount(train[1], length=10) / len(train[1])
    order = jax.random.permutation(keys.trials, 10)
    levels = jnp.linspace(0.0, 1.0, severities)
    sweep = label_shift_sweep(
        keys.groups,
        probabilities(X_test),
        jnp.asarray(y_test),
        confusion,
        levels,
        order=order,
        source_priors=source_priors,
        num_target=target_size,
    )
    return {
        "severity": levels.tolist(),
        "val_acc": result.last["test_acc"],
        **{k: np.asarray(v).tolist() for k, v in sweep.items()},
    }
