"""The one training runner every training experiment uses: placement and checkpoints from
the shared flags, live progress (a line per epoch, d2l's Animator in Jupyter), the run
record after every epoch, divergence marked in it, keys by name from `jaxd2l.core.keys`."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxd2l import plot
from jaxd2l.chapters import classification
from jaxd2l.core import divergence
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.errors import FlagError
from jaxd2l.core.fit import FitResult, fit
from jaxd2l.core.keys import run_keys
from jaxd2l.core.model import Model
from jaxd2l.core.parallel import DataParallel, make_mesh
from jaxd2l.core.step import TrainState, init_state
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.experiment.flags import NOT_RUN_IDENTITY, TrainingFlags
from jaxd2l.experiment.record import Run
from jaxd2l.plot import progress


def training_setup(config: TrainingFlags):
    """(parallel, checkpointer) for a training experiment from the shared flags.

    parallel is None on one device in one process (the chapters' path, unchanged), else a
    `DataParallel` over `--devices`. The checkpointer (None without --checkpoint-dir)
    identifies the run by its flags plus the number of devices."""
    try:
        mesh = make_mesh(config.devices) if config.devices or jax.device_count() > 1 else None
    except ValueError as e:
        raise FlagError(f"--devices: {e}") from None
    parallel = DataParallel(mesh) if mesh is not None and mesh.size > 1 else None
    batch_size = getattr(config, "batch_size", None)
    if parallel is not None and batch_size is not None:
        try:
            parallel.check_batch_size(batch_size, "--batch-size")
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


def fit_and_record(
    run: Run,
    state: TrainState,
    run_epoch: Callable,
    train: tuple[Any, Any],
    key: jax.Array,
    epochs: int,
    *,
    checkpoint: Checkpointer | None = None,
    evaluate: Callable | None = None,
    test: tuple[Any, Any] | None = None,
    stop_on_divergence: bool = True,
) -> FitResult:
    """`loop.fit` with progress on process 0, every epoch into the run record, the
    checkpointer closed on every path, and the timings recorded."""
    callbacks = [progress.default_progress(epochs)] if run.primary else []
    callbacks.append(run.on_epoch)
    if run.primary:  # the figures after training need matplotlib: load it while XLA trains
        callbacks.append(_once(plot.preload))
    run.record["processes"] = jax.process_count()
    with checkpoint or contextlib.nullcontext():
        result = fit(
            state,
            run_epoch,
            train,
            key,
            epochs,
            evaluate=evaluate,
            test=test,
            callbacks=callbacks,
            checkpoint=checkpoint,
            divergence_factor=divergence.FACTOR if stop_on_divergence else None,
        )
    run.record["timing"].update(result.timing)
    return result


def run_classifier(
    run: Run,
    config: Any,
    model: Model,
    tx,
    loss: Callable,
    after: Callable[[Run, Any, Any], None] | None = None,
) -> dict[str, Any]:
    """A Fashion-MNIST classifier run from its flags (`seed`, `data_dir`, `epochs`,
    `batch_size` and the training flags): load the data onto the device, train, write
    curves.png and predictions.png, and finish the run with final train loss/accuracy and
    test accuracy. `after(run, params, test)` may add figures of the trained params first."""
    parallel, checkpoint = training_setup(config)
    train, test = fm.load_train_test(data_dir=config.data_dir, on_device=parallel is None)
    keys = run_keys(config.seed)
    run_epoch, evaluate = classification.classifier_epoch(
        model.apply, tx, loss, config.batch_size, parallel
    )
    run.record["devices"] = parallel.num_devices if parallel is not None else 1
    state = init_state(model.init(keys.init), tx)
    result = fit_and_record(
        run,
        state,
        run_epoch,
        train,
        keys.train,
        config.epochs,
        checkpoint=checkpoint,
        evaluate=evaluate,
        test=test,
        stop_on_divergence=config.stop_on_divergence,
    )
    params = jax.device_get(result.params)
    if run.primary:
        plot.save_curves(result.history, run.file("curves.png"), config.epochs)
        classification.save_predictions(
            model.apply, params, *map(np.asarray, test), run.file("predictions.png")
        )
    if after is not None:
        after(run, params, test)
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
