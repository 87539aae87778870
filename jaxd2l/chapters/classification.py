"""Training a Fashion-MNIST classifier end to end (d2l 3.6-3.7, 4.2-4.3): shared by the
softmax-regression and MLP experiments and by research code. Plain arguments only.

Data stays on the device as uint8; each epoch is one compiled scan; the per-epoch record
(train loss and accuracy, test loss and accuracy, seconds) streams to `fit`'s hooks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import jax
import numpy as np
import optax

from jaxd2l import checks, plot
from jaxd2l.core import history
from jaxd2l.core.epoch import Epoch, make_epoch
from jaxd2l.core.fit import FitResult, fit
from jaxd2l.core.hooks import Hook
from jaxd2l.core.keys import run_keys
from jaxd2l.core.parallel import DataParallel
from jaxd2l.core.step import Model, Params, init_state, make_train_step, takes_key
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics


def optax_loss(label_smoothing: float = 0.0) -> Callable:
    """The concise loss: optax's softmax cross-entropy, with smoothed labels when asked."""
    checks.fraction(label_smoothing, "label_smoothing")
    if label_smoothing == 0.0:
        return optax.softmax_cross_entropy_with_integer_labels

    def loss(logits, y):
        targets = optax.smooth_labels(jax.nn.one_hot(y, logits.shape[-1]), label_smoothing)
        return optax.softmax_cross_entropy(logits, targets)

    return loss


def scratch_loss(label_smoothing: float = 0.0) -> Callable:
    """The from-scratch loss: our stable cross-entropy on logits."""
    checks.fraction(label_smoothing, "label_smoothing")
    return functools.partial(cross_entropy, label_smoothing=label_smoothing)


def classifier_epoch(
    apply: Callable,
    tx: optax.GradientTransformation,
    loss: Callable,
    batch_size: int,
    parallel: DataParallel | None = None,
) -> tuple[Epoch, Callable]:
    """(epoch, evaluate) for a classifier of uint8 images (scaled to [0, 1] on the device).
    The test figures use the plain cross-entropy (no label smoothing), as d2l evaluates."""
    step = make_train_step(apply, loss, tx, classification_metrics)
    run_epoch = make_epoch(step, batch_size, prepare=fm.scale_images, parallel=parallel)
    return run_epoch, classifier_evaluate(apply, parallel)


def classifier_evaluate(apply: Callable, parallel: DataParallel | None = None) -> Callable:
    """`evaluate(params, X, y) -> sums` of the plain cross-entropy and accuracy on uint8
    images (`summarize` turns the sums into means)."""
    return make_evaluate(
        apply, cross_entropy, classification_metrics, prepare=fm.scale_images, parallel=parallel
    )


def train_classifier(
    model: Model,
    tx: optax.GradientTransformation,
    loss: Callable,
    train: tuple[jax.Array, jax.Array],
    test: tuple[jax.Array, jax.Array],
    *,
    epochs: int,
    batch_size: int,
    key: jax.Array,
    params: Params | None = None,
    hooks: Iterable[Hook | Callable] = (),
    parallel: DataParallel | None = None,
    divergence_factor: float | None = history.FACTOR,
    evaluated: str = "test",
) -> FitResult:
    """Train a classifier of uint8 images (d2l's train_ch3): `classifier_epoch` and `fit`,
    the one way every classifier experiment, notebook and benchmark trains.

    Args:
      model: the model (`Model(init, apply)`), its inputs the images scaled to [0, 1].
      tx: the optimizer (optax; `jaxd2l.sgd` is d2l's from-scratch SGD).
      loss: `loss(logits, y) -> [B]` (e.g. `scratch_loss()` or `optax_loss()`).
      train: the training pair (uint8 images [N, 28, 28, 1], int labels [N]).
      test: the evaluation pair, evaluated after every epoch with the plain cross-entropy.
      epochs: passes over `train`.
      batch_size: examples per minibatch; the last partial batch is padded and masked.
      key: the run's root key: parameters from `run_keys(key).init` (unless `params` is
        given), batch order and dropout from `run_keys(key).train`, as a CLI run with that
        seed.
      params: initial parameters, when the caller made (and looked at) them already.
      hooks: `fit`'s hooks (progress, `Checkpoint`, `EarlyStopping`, callbacks).
      parallel: a `DataParallel` to train data parallel over its devices.
      divergence_factor: the divergence rule's factor; None turns the rule off.
      evaluated: what `test` is, "test" or "validation" (a split held out for choosing,
        e.g. by early stopping): the prefix of its keys in the records.

    Returns:
      `FitResult`: the trained `state` (`.params`), the per-epoch `history` and `timing`.

    Raises:
      DivergedError: the training loss broke the divergence rule.
      ValueError, TypeError: a bad argument, named.
    """
    keys = run_keys(key)
    run_epoch, evaluate = classifier_epoch(model.apply, tx, loss, batch_size, parallel)
    if params is None:
        params = model.init(keys.init)
    state = init_state(params, tx, keys.train)
    split = {checks.choice(evaluated, ("test", "validation"), "evaluated"): test}
    return fit(
        state,
        run_epoch,
        train,
        epochs,
        evaluate=evaluate,
        hooks=hooks,
        divergence_factor=divergence_factor,
        **split,
    )


def save_predictions(apply, params, images, labels, path, n: int = 18) -> float:
    """d2l's predict_ch3: test images titled 'true / predicted', mistakes in red.
    Returns the accuracy on the shown images."""
    images, labels = np.asarray(images[:n]), np.asarray(labels[:n])
    logits = takes_key(apply)(params, fm.scale_images(images), key=None)
    preds = np.asarray(jax.numpy.argmax(logits, axis=-1))
    titles = [
        f"{t}\n{p}" for t, p in zip(fm.text_labels(labels), fm.text_labels(preds), strict=True)
    ]
    colors = ["black" if p == t else "red" for p, t in zip(preds, labels, strict=True)]
    plot.save_image_grid(images, titles, path, title_colors=colors)
    return float((preds == labels).mean())
