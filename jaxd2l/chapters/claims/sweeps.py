"""The sweeps every claim runs: one program per shape, vmapped over seeds and settings.

`classifier_sweep` trains a Fashion-MNIST classifier once per seed (and per setting, a
pytree of arrays with a leading axis) with `make_train`, every run in one compiled program;
`curve_estimates` turns per-seed curves into means and 95% intervals for the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxd2l import checks
from jaxd2l.chapters.claims.verdicts import estimate
from jaxd2l.chapters.classification import classifier_evaluate
from jaxd2l.core.drivers import make_train
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.step import make_train_step, summarize
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.nn.metrics import classification_metrics


class Budget(NamedTuple):
    """How much each claim runs: seeds, and the small settings of `--quick`."""

    seeds: int = 5
    """Runs per setting (the interval is across them)."""
    quick: bool = False
    """Small data and few epochs: seconds per claim, for tests and a first look."""
    seed: int = 0
    """The root seed; seed i of a sweep is `split(key(seed), seeds)[i]`."""

    def keys(self) -> jax.Array:
        """One root key per seed."""
        return jax.random.split(jax.random.key(self.seed), self.seeds)

    def pick(self, default: Any, quick: Any) -> Any:
        """`quick` in quick mode, else `default`."""
        return quick if self.quick else default


def check_budget(budget: Budget) -> Budget:
    """The budget with its seed count checked (two at least: an interval needs them)."""
    checks.integer(budget.seeds, "seeds", minimum=2, maximum=1000)
    checks.integer(budget.seed, "seed", minimum=0, maximum=2**31 - 1)
    return budget


class Images(NamedTuple):
    """Fashion-MNIST-shaped data: uint8 images [N, 28, 28, 1] and int labels, on the device."""

    train: tuple[jax.Array, jax.Array]
    """Training images and labels."""
    test: tuple[jax.Array, ...]
    """Test images and labels (or the arguments of a sweep's own evaluation)."""

    def subset(self, num_train: int, num_test: int) -> Images:
        """The first `num_train` training and `num_test` test examples (all, if fewer)."""
        (X, y), (Xt, yt) = self.train, self.test
        return Images((X[:num_train], y[:num_train]), (Xt[:num_test], yt[:num_test]))


def classifier_sweep(
    make: Callable,
    keys: jax.Array,
    data: Images,
    *,
    epochs: int,
    batch_size: int,
    settings: Any = None,
    per_seed: Any = None,
    labels: jax.Array | None = None,
    remainder: str = "pad",
    after: Callable | None = None,
    evaluate: Callable | None = None,
    metrics: Callable = classification_metrics,
) -> dict[str, Any]:
    """Train `make(setting, seed_value) -> (model, tx, loss)` once per key (and per setting)
    in one program: the data are arguments, the runs a `vmap` over keys (inner, with
    `per_seed` values, and `labels`: training labels [seeds, N] in place of data.train's,
    e.g. noise drawn per seed) and settings (outer).

    Returns numpy {"train": summaries, "test": summaries, "after": after(model, params,
    X_test, y_test)} with axes [settings,] seeds, epochs (epochs only for the summaries).
    `evaluate(apply)` and `metrics` replace the classifier's evaluation and accuracy; an
    evaluation may take more than one split (`data.test` is then its arguments).
    """
    batch_size = min(batch_size, int(data.train[0].shape[0]))

    def one(setting, key, seed_value, X, y, *test):
        model, tx, loss = make(setting, seed_value)
        step = make_train_step(model.apply, loss, tx, metrics)
        epoch = make_epoch(step, batch_size, prepare=fm.scale_images, remainder=remainder)
        evaluation = (evaluate or classifier_evaluate)(model.apply)
        train = make_train(model.init, tx, epoch, epochs, observe=evaluation)
        trained = train(key, (X, y), test)
        state = trained.state
        out = {"train": summarize(trained.train), "test": summarize(trained.observed)}
        if after is not None:
            out["after"] = after(model, state.params, *test)
        return out

    seed_axes = (0 if per_seed is not None else None, None, 0 if labels is not None else None)
    test_axes = (None,) * len(data.test)
    run = jax.vmap(one, (None, 0, *seed_axes, *test_axes))
    if settings is not None:
        run = jax.vmap(run, (0, None, None, None, None, *test_axes))
    y = data.train[1] if labels is None else labels
    out = jax.jit(run)(settings, keys, per_seed, data.train[0], y, *data.test)
    return jax.device_get(out)


LAST = 3
"""Where the note speaks of final behaviour, the endpoint is the mean of the last 3 epochs."""


def end_of_training(curves) -> np.ndarray:
    """Per seed (and setting), the mean of the last `LAST` epochs of curves [..., epochs]."""
    return np.asarray(curves)[..., -LAST:].mean(axis=-1)


def curve_estimates(curves: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """Per-point mean and 95% interval of curves [seeds, T] (for the figures)."""
    points = [estimate(np.asarray(curves)[:, t]) for t in range(np.shape(curves)[1])]
    return [p.mean for p in points], [p.low for p in points], [p.high for p in points]


def first_reaching(curves: np.ndarray, target: float) -> np.ndarray:
    """Per seed, the first epoch (from 1) whose value reaches `target`; T + 1 if none does
    (a censored count: the run never got there)."""
    curves = np.asarray(curves)
    reached = curves >= target
    return np.where(reached.any(axis=-1), reached.argmax(axis=-1) + 1, curves.shape[-1] + 1)


def reaching(curves: np.ndarray, target: float, label: str) -> dict[str, Any]:
    """Two measured values for "epochs to reach `target`": the share of seeds that reached
    it within the run, and the epochs (from 1) among those (none reached: the entry says
    so, instead of an interval of censored counts that would read as data)."""
    counts = first_reaching(curves, target)
    reached = counts <= np.shape(curves)[-1]
    out = {f"{label}: share of seeds reaching {target}": estimate(reached.astype(float))}
    if reached.sum() >= 2:
        out[f"{label}: epochs to {target} (seeds that reached it)"] = estimate(counts[reached])
    return out


def epoch_figure(curves: dict[str, Any], epochs: int, ylabel: str = "test accuracy") -> dict:
    """A claim's figure of per-epoch curves: {name: curve_estimates(...)} against epochs 1..E."""
    return {
        "kind": "curves",
        "x": list(range(1, epochs + 1)),
        "curves": curves,
        "xlabel": "epoch",
        "ylabel": ylabel,
    }
