"""Hyperparameter search (d2l 4.2 exercise 2): grid and random trials, trained in groups.

Trials that share shapes (hidden width and batch size) form a group that trains in one
compiled program: the step is vmapped (`jax.vmap`) over learning rates while every trial sees
the same batches, so the data is gathered once per batch for all of them. Selection uses
a validation split carved from the training set; the test set only reports the winner.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxd2l import checks
from jaxd2l.checks import sweeps
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.history import diverged_runs
from jaxd2l.core.parallel import AXIS, DataParallel, place_leaf
from jaxd2l.core.step import make_train_step, summarize
from jaxd2l.data.fashion_mnist import scale_images
from jaxd2l.models import mlp
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.stacks import with_learning_rates


class Trial(NamedTuple):
    """One point of a search."""

    lr: float
    """The learning rate."""
    hidden: int
    """The hidden width; 0: no hidden layer (softmax regression)."""
    batch_size: int
    """Examples per minibatch."""


# A trial's settings and what it measured: the columns of TensorBoard's hparams table.
HPARAMS = (("lr", "hidden", "batch_size"), ("val_acc", "val_loss", "train_loss"))


@dataclasses.dataclass(frozen=True)
class TrialParallel(DataParallel):
    """A stack of trials (leading axis of every state leaf) sharded over the devices; each
    device trains its trials on the whole batch. The number of trials must divide evenly."""

    def place_state(self, state: Any) -> Any:
        """Stacked leaves sharded along the trials axis; the leaves the members share (a
        `TrainState`'s key and epoch, scalars) replicated."""
        leaves = [x for x in jax.tree.leaves(state) if np.ndim(x) > 0]
        n = leaves[0].shape[0]
        if n % self.num_devices:
            raise ArgumentError(
                f"{n} trials do not divide over {self.num_devices} devices: pad the stack with "
                "copies of a trial (search.trials.train_group does) or use fewer devices"
            )
        stacked, shared = NamedSharding(self.mesh, P(AXIS)), NamedSharding(self.mesh, P())
        return jax.tree.map(lambda x: place_leaf(x, stacked if np.ndim(x) > 0 else shared), state)

    def constrain_batches(self, x: jax.Array) -> jax.Array:
        return x

    def check_batch_size(self, batch_size: int, name: str = "batch_size") -> None:
        return None


def grid(lrs: Sequence[float], hiddens: Sequence[int], batch_sizes: Sequence[int]) -> list[Trial]:
    """Every combination (each list flat, no value twice: a trial is named by its values)."""
    lrs = sweeps.grid(lrs, "lrs", above=0)
    hiddens = sweeps.grid(hiddens, "hiddens", integer=True, minimum=0)
    batch_sizes = sweeps.grid(batch_sizes, "batch_sizes", integer=True, minimum=1)
    return [Trial(lr, h, b) for h, b, lr in itertools.product(hiddens, batch_sizes, lrs)]


def random_trials(
    key: jax.Array,
    num_trials: int,
    lr_range: tuple[float, float],
    hiddens: Sequence[int],
    batch_sizes: Sequence[int],
) -> list[Trial]:
    """Learning rates log-uniform in `lr_range`; widths and batch sizes drawn uniformly."""
    checks.key(key)
    checks.integer(num_trials, "num_trials", minimum=1)
    check_lr_range(lr_range)
    k_lr, k_h, k_b = jax.random.split(key, 3)
    lo, hi = math.log(lr_range[0]), math.log(lr_range[1])
    lrs = np.exp(np.asarray(jax.random.uniform(k_lr, (num_trials,), minval=lo, maxval=hi)))
    hs = np.asarray(jax.random.choice(k_h, jnp.asarray(hiddens), (num_trials,)))
    bs = np.asarray(jax.random.choice(k_b, jnp.asarray(batch_sizes), (num_trials,)))
    return [Trial(float(lr), int(h), int(b)) for lr, h, b in zip(lrs, hs, bs, strict=True)]


def check_lr_range(lr_range: Sequence[float]) -> None:
    """`lr_range` must be (low, high), finite, with 0 < low < high (drawn log-uniformly)."""
    try:
        lo, hi = (float(v) for v in lr_range)
    except (TypeError, ValueError):
        raise ArgumentError(f"lr_range must be two numbers (low, high), got {lr_range!r}") from None
    if not (0 < lo < hi < math.inf):
        raise ArgumentError(
            f"lr_range must be (low, high) with 0 < low < high, both finite, got {lr_range!r}: "
            "learning rates are drawn log-uniformly"
        )


def validation_split(key: jax.Array, X: jax.Array, y: jax.Array, val_size: int):
    """(train, val): a random `val_size` examples held out of the training set."""
    checks.key(key)
    checks.dataset(X, y, "validation_split")
    checks.integer(val_size, "val_size", minimum=1)
    if not 0 < val_size < len(y):
        raise ArgumentError(f"val_size must be in (0, {len(y)}), got {val_size}")
    order = jax.random.permutation(key, len(y))
    val, train = order[:val_size], order[val_size:]
    return (X[train], y[train]), (X[val], y[val])


def train_group(
    trials: Sequence[Trial],
    train: tuple[jax.Array, jax.Array],
    val: tuple[jax.Array, jax.Array],
    *,
    epochs: int,
    key: jax.Array,
    parallel: TrialParallel | None = None,
) -> dict[str, Any]:
    """Train trials that differ only in learning rate, all at once; returns their final
    params (stacked on axis 0, as numpy), validation figures and timings.

    With `parallel` the trials axis is sharded over its devices (each device trains its
    share of the trials on the whole batch); the group is padded with copies of its last
    trial to divide evenly, and the copies are dropped from the results."""
    hidden, batch_size = trials[0].hidden, trials[0].batch_size
    if any((t.hidden, t.batch_size) != (hidden, batch_size) for t in trials):
        raise ArgumentError("a group's trials must share hidden width and batch size")
    sizes = (784, hidden, 10) if hidden else (784, 10)
    init_key, data_key = jax.random.split(key)
    lrs = [t.lr for t in trials]
    if parallel is not None:
        lrs += lrs[-1:] * (-len(lrs) % parallel.num_devices)
    tx, states = with_learning_rates(mlp.init(init_key, sizes), sgd, lrs, data_key)
    step = make_train_step(mlp.apply, cross_entropy, tx, classification_metrics)
    run_epoch = make_epoch(
        jax.vmap(step, in_axes=(0, None)), batch_size, prepare=scale_images, parallel=parallel
    )
    evaluate = jax.jit(
        jax.vmap(
            make_evaluate(mlp.apply, cross_entropy, classification_metrics, prepare=scale_images),
            in_axes=(0, None, None),
        )
    )
    result = fit(states, run_epoch, train, epochs)
    if parallel is not None:
        val = parallel.place_data(val)
    to_host = parallel.to_host if parallel is not None else jax.device_get
    val_means = to_host(summarize(evaluate(result.params, *val)))
    n = len(trials)
    return {
        "params": jax.tree.map(lambda p: p[:n], to_host(result.params)),
        "val_acc": val_means["acc"].tolist()[:n],
        "val_loss": val_means["loss"].tolist()[:n],
        "train_loss": result.history["train_loss"][-1].tolist()[:n],
        "diverged": diverged_runs(result.history["train_loss"].T, result.untrained).tolist()[:n],
        "compile_s": result.timing["compile_s"],
        "epoch_s": result.timing["epoch_s"],
    }


def group_trials(trials: Sequence[Trial]) -> dict[tuple[int, int], list[Trial]]:
    """Trials grouped by the shapes they compile to: (hidden, batch_size)."""
    groups: dict[tuple[int, int], list[Trial]] = {}
    for t in trials:
        groups.setdefault((t.hidden, t.batch_size), []).append(t)
    return groups


def accuracy_on(params: Any, test: tuple[Any, Any]) -> float:
    """One trial's accuracy on a split of uint8 images (the chosen trial, on the test set)."""
    evaluate = make_evaluate(mlp.apply, cross_entropy, classification_metrics, prepare=scale_images)
    return float(summarize(evaluate(params, *map(jnp.asarray, test)))["acc"])


def vmap_speed(trials, train, val, key, parallel=None) -> dict[str, Any]:
    """Seconds per epoch of a vmapped group against one of its trials alone (compiled)."""
    group = train_group(trials, train, val, epochs=2, key=key, parallel=parallel)
    alone = train_group(trials[:1], train, val, epochs=2, key=key, parallel=parallel)
    together, single = min(group["epoch_s"]), min(alone["epoch_s"])
    return {
        "trials": len(trials),
        "vmapped_epoch_s": together,
        "single_epoch_s": single,
        "ratio": together / single,
    }


def largest_group_speed(rows, train, val, key, parallel=None) -> dict[str, Any]:
    """`vmap_speed` of the largest group of trials a search trained (its rows)."""
    groups = group_trials([Trial(r["lr"], r["hidden"], r["batch_size"]) for r in rows])
    return vmap_speed(max(groups.values(), key=len), train, val, key, parallel)
