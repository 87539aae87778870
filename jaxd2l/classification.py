"""Training a Fashion-MNIST classifier end to end (d2l 3.6-3.7, 4.2-4.3): shared by the
softmax-regression and MLP experiments and by research code.

Data stays on the device as uint8; each epoch is one compiled scan; the per-epoch record
(train loss and accuracy, test loss and accuracy, seconds) streams to callbacks.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np
import optax

from jaxd2l import checks, loop, plot, progress
from jaxd2l.checkpoint import Checkpointer
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.experiment import Run, training_setup
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import classification_metrics
from jaxd2l.parallel import DataParallel
from jaxd2l.train import init_state, make_epoch, make_evaluate, make_train_step


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


def train_classifier(
    params: Any,
    apply: Callable,
    tx: optax.GradientTransformation,
    loss: Callable,
    train: tuple[jax.Array, jax.Array],
    test: tuple[jax.Array, jax.Array],
    *,
    epochs: int,
    batch_size: int,
    key: jax.Array,
    callbacks: Iterable[loop.EpochCallback] = (),
    parallel: DataParallel | None = None,
    checkpoint: Checkpointer | None = None,
) -> loop.FitResult:
    """Fit `apply` on uint8 images (scaled to [0, 1] on the device) with `tx` and `loss`.

    The test figures use the plain cross-entropy (no label smoothing), as d2l evaluates.
    `parallel` trains data parallel over its devices; `checkpoint` saves every epoch and
    resumes (see `loop.fit`).
    """
    step = make_train_step(apply, loss, tx, classification_metrics, jit=False)
    run_epoch = make_epoch(step, batch_size, prepare=fm.scale_images, parallel=parallel)
    evaluate = make_evaluate(
        apply, cross_entropy, classification_metrics, prepare=fm.scale_images, parallel=parallel
    )
    state = init_state(params, tx)
    return loop.fit(
        state,
        run_epoch,
        train,
        key,
        epochs,
        evaluate=evaluate,
        test=test,
        callbacks=callbacks,
        checkpoint=checkpoint,
    )


def save_predictions(apply, params, images, labels, path, n: int = 18) -> float:
    """d2l's predict_ch3: test images titled 'true / predicted', mistakes in red.
    Returns the accuracy on the shown images."""
    images, labels = np.asarray(images[:n]), np.asarray(labels[:n])
    preds = np.asarray(jax.numpy.argmax(apply(params, fm.scale_images(images)), axis=-1))
    titles = [
        f"{t}\n{p}" for t, p in zip(fm.text_labels(labels), fm.text_labels(preds), strict=True)
    ]
    colors = ["black" if p == t else "red" for p, t in zip(preds, labels, strict=True)]
    plot.save_image_grid(images, titles, path, title_colors=colors)
    return float((preds == labels).mean())


def run_fashion_experiment(
    run: Run,
    config: Any,
    params: Any,
    apply: Callable,
    tx,
    loss: Callable,
    after: Callable[[Run, Any], None] | None = None,
) -> dict[str, Any]:
    """Load Fashion-MNIST onto the device, train, write curves.png and predictions.png, and
    finish the run with final train loss/accuracy and test accuracy. `after(run, params)`
    may add figures of the trained params to the record before it is finished."""
    parallel, checkpoint = training_setup(config)
    train, test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
    train_key = jax.random.fold_in(jax.random.key(config.seed), 2)
    callbacks = [run.on_epoch]
    if run.primary:
        callbacks.insert(0, progress.default_progress(config.epochs))
    run.record["devices"] = parallel.num_devices if parallel is not None else 1
    run.record["processes"] = jax.process_count()
    with checkpoint or contextlib.nullcontext():
        result = train_classifier(
            params,
            apply,
            tx,
            loss,
            train,
            test,
            epochs=config.epochs,
            batch_size=config.batch_size,
            key=train_key,
            callbacks=callbacks,
            parallel=parallel,
            checkpoint=checkpoint,
        )
    run.record["timing"].update(result.timing)
    params = jax.device_get(result.params)
    if run.primary:
        plot.save_curves(result.history, run.file("curves.png"), config.epochs)
        save_predictions(apply, params, *map(np.asarray, test), run.file("predictions.png"))
    if after is not None:
        after(run, params)
    last = result.history[-1]
    final = {k: last[k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    summary = (
        f"{run.record['experiment']} {run.record['impl'] or ''}: test acc {final['test_acc']:.4f}, "
        f"train loss {final['train_loss']:.4f}, train acc {final['train_acc']:.4f}, "
        f"{result.timing['median_epoch_s']:.3f} s/epoch (median), "
        f"compile {result.timing['compile_s']:.2f} s"
    )
    record = run.finish(final, summary)
    record["params"] = params  # for research callers; not written to metrics.json
    return record
