"""The one training runner every training experiment uses: placement and checkpoints from
the shared flags, live progress (a line per epoch, d2l's Animator in Jupyter), the run
record after every epoch, divergence marked in it, keys by name from `jaxd2l.core.keys`."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxd2l import plot
from jaxd2l.chapters import classification
from jaxd2l.cli.flags import NOT_RUN_IDENTITY, FlagError, TrainingFlags
from jaxd2l.cli.record import Run
from jaxd2l.core import history
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.epoch import Epoch
from jaxd2l.core.fit import FitResult, fit
from jaxd2l.core.hooks import Checkpoint
from jaxd2l.core.keys import run_keys
from jaxd2l.core.parallel import DataParallel, make_mesh
from jaxd2l.core.step import Model, TrainState
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.plot import progress


def training_setup(config: TrainingFlags, batch_size: int | None = None):
    """(parallel, checkpointer) for a training experiment from the shared flags.

    parallel is None on one device in one process (the chapters' path, unchanged), else a
    `DataParallel` over `--devices`, which must divide `batch_size` when one is given. The
    checkpointer (None without --checkpoint-dir) identifies the run by its flags plus the
    number of devices."""
    try:
        mesh = make_mesh(config.devices) if config.devices or jax.device_count() > 1 else None
    except ValueError as e:
        raise FlagError(str(e)) from None
    parallel = DataParallel(mesh) if mesh is not None and mesh.size > 1 else None
    if parallel is not None and batch_size is not None:
        try:
            parallel.check_batch_size(batch_size, "batch_size")
        except ValueError as e:
            raise FlagError(str(e)) from None
    checkpointer = None
    if config.checkpoint_dir:
        flags = dataclasses.asdict(config)
        identity = {k: v for k, v in flags.items() if k not in NOT_RUN_IDENTITY}
        identity["devices"] = parallel.num_devices if parallel is not None else 1
        checkpointer = Checkpointer(config.checkpoint_dir, flags=identity, resume=config.resume)
    return parallel, checkpointer


def _once(action: Callable[[], None]) -> Callable[[dict], None]:
    """An epoch callback that runs `action` after the first epoch only (once the programs
    are compiled, so it overlaps with the next epochs instead of the compilation)."""
    done = []

    def callback(record: dict) -> None:
        if not done:
            done.append(True)
            action()

    return callback


def run_hooks(run: Run, epochs: int, checkpoint: Checkpointer | None = None) -> list:
    """What every training run does after each epoch: progress on process 0, the record
    written, matplotlib loaded in the background once the programs are compiled, and the
    checkpoint saved (after the others, so it knows whether one stopped the run)."""
    hooks: list = [progress.default_progress(epochs)] if run.primary else []
    hooks.append(run.on_epoch)
    if run.primary:  # the figures after training need matplotlib: load it while XLA trains
        hooks.append(_once(plot.preload))
    if checkpoint is not None:
        hooks.append(Checkpoint(checkpoint))
    run.record["processes"] = jax.process_count()
    return hooks


def fit_and_record(
    run: Run,
    state: TrainState,
    run_epoch: Epoch,
    train: tuple[Any, Any],
    epochs: int,
    *,
    checkpoint: Checkpointer | None = None,
    evaluate: Callable | None = None,
    test: tuple[Any, Any] | None = None,
    stop_on_divergence: bool = True,
) -> FitResult:
    """`fit` with the run's hooks, the checkpointer closed on every path, and the timings
    recorded."""
    with checkpoint or contextlib.nullcontext():
        result = fit(
            state,
            run_epoch,
            train,
            epochs,
            evaluate=evaluate,
            test=test,
            hooks=run_hooks(run, epochs, checkpoint),
            divergence_factor=history.FACTOR if stop_on_divergence else None,
        )
    run.record["timing"].update(result.timing)
    return result


class ClassifierRun(NamedTuple):
    """What `run_classifier` returns: the fit and the data it trained on."""

    result: FitResult
    """The trained state, the per-epoch history and the timings."""
    train: tuple[Any, Any]
    """The training pair (uint8 images, labels) as loaded."""
    test: tuple[Any, Any]
    """The test pair, for the figures."""


def run_classifier(run: Run, config: Any, model: Model, tx, loss: Callable, *, params=None):
    """Train a Fashion-MNIST classifier from its flags (`seed`, `data_dir`, `epochs`,
    `batch_size` and the training flags) through `classification.train_classifier`, with
    the run's progress, record and checkpoints. `params`: initial parameters the caller
    already made (else from the seed's `keys.init`). Returns a `ClassifierRun`; the caller
    draws what it wants from it and ends with `finish_classifier`."""
    parallel, checkpoint = training_setup(config, config.batch_size)
    train, test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
    run.record["devices"] = parallel.num_devices if parallel is not None else 1
    with checkpoint or contextlib.nullcontext():
        result = classification.train_classifier(
            model,
            tx,
            loss,
            train,
            test,
            epochs=config.epochs,
            batch_size=config.batch_size,
            key=run_keys(config.seed).root,
            params=params,
            hooks=run_hooks(run, config.epochs, checkpoint),
            parallel=parallel,
            divergence_factor=history.FACTOR if config.stop_on_divergence else None,
        )
    run.record["timing"].update(result.timing)
    return ClassifierRun(result, train, test)


def finish_classifier(run: Run, model: Model, trained: ClassifierRun) -> dict[str, Any]:
    """Write curves.png and predictions.png and finish the run with the final train
    loss/accuracy and test loss/accuracy; the record also carries the trained `params`
    (for research callers; not written to metrics.json)."""
    result = trained.result
    params = jax.device_get(result.params)
    if run.primary:
        plot.save_curves(result.history, run.file("curves.png"), len(result.history["epoch"]))
        classification.save_predictions(
            model.apply, params, *map(np.asarray, trained.test), run.file("predictions.png")
        )
    last = result.last
    final = {k: last[k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    summary = (
        f"{run.record['experiment']} {run.record['impl'] or ''}: test acc {final['test_acc']:.4f}, "
        f"train loss {final['train_loss']:.4f}, train acc {final['train_acc']:.4f}, "
        f"{result.timing['median_epoch_s']:.3f} s/epoch (median), "
        f"compile {result.timing['compile_s']:.2f} s"
    )
    record = run.finish(final, summary)
    record["params"] = params
    return record
