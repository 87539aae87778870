"""Where a name went: every module and argument that moved since the earlier layouts, and
the names a reader of d2l reaches for, each with its place here.

`import jaxd2l` installs `MovedFinder` at the end of `sys.meta_path`, so `import
jaxd2l.losses` fails as it would, but saying where the module is now; the front door's and
the packages' attribute lookups answer `d2l.losses` or `d2l.train_ch3` the same way. The
tables are the docs' "where did X go" and "coming from d2l" pages.
"""

from __future__ import annotations

import importlib.abc
import sys

MODULES = {
    # the first flat layout, then the one with jaxd2l.experiment
    "jaxd2l.activations": "jaxd2l.nn.activations",
    "jaxd2l.backprop": "jaxd2l.chapters.backprop",
    "jaxd2l.bench": "jaxd2l.tools.bench",
    "jaxd2l.checkpoint": "jaxd2l.core.checkpoint",
    "jaxd2l.classification": "jaxd2l.chapters.classification",
    "jaxd2l.divergence": "jaxd2l.core.history",
    "jaxd2l.drivers": "jaxd2l.core.drivers",
    "jaxd2l.early_stopping": "jaxd2l.nn.early_stopping",
    "jaxd2l.epoch": "jaxd2l.core.epoch",
    "jaxd2l.errors": "jaxd2l.checks.errors",
    "jaxd2l.experiment": "jaxd2l.cli",
    "jaxd2l.fashion_mnist": "jaxd2l.data.fashion_mnist",
    "jaxd2l.flops": "jaxd2l.chapters.flops",
    "jaxd2l.house": "jaxd2l.chapters.house_prices",
    "jaxd2l.hparam": "jaxd2l.search.trials",
    "jaxd2l.keys": "jaxd2l.core.keys",
    "jaxd2l.launch": "jaxd2l.tools.launch",
    "jaxd2l.loop": "jaxd2l.search.loop",
    "jaxd2l.losses": "jaxd2l.nn.losses",
    "jaxd2l.metrics": "jaxd2l.nn.metrics",
    "jaxd2l.optim": "jaxd2l.nn.optim",
    "jaxd2l.parallel": "jaxd2l.core.parallel",
    "jaxd2l.piecewise": "jaxd2l.chapters.piecewise",
    "jaxd2l.precision": "jaxd2l.tools.bench.precision",
    "jaxd2l.progress": "jaxd2l.plot.progress",
    "jaxd2l.regularization": "jaxd2l.nn.regularization",
    "jaxd2l.selection": "jaxd2l.chapters.model_selection",
    "jaxd2l.stability": "jaxd2l.chapters.stability",
    "jaxd2l.stack": "jaxd2l.nn.stacks",
    "jaxd2l.train": "jaxd2l.core.fit",
    "jaxd2l.data.batching": "jaxd2l.core.batching",
    "jaxd2l.data.shuffle": "jaxd2l.core.batching",
    # the engine's first pass
    "jaxd2l.core.early_stopping": "jaxd2l.nn.early_stopping",
    "jaxd2l.core.flops": "jaxd2l.chapters.flops",
    "jaxd2l.core.folds": "jaxd2l.data.folds",
    "jaxd2l.core.optim": "jaxd2l.nn.optim",
    "jaxd2l.core.precision": "jaxd2l.tools.bench.precision",
    "jaxd2l.core.prepare": "jaxd2l.core.arguments",
    "jaxd2l.core.shuffle": "jaxd2l.core.batching",
    # checking moved below the engine; the engine in twelve modules
    "jaxd2l.core.arrays": "jaxd2l.checks.arrays",
    "jaxd2l.core.checks": "jaxd2l.checks",
    "jaxd2l.core.divergence": "jaxd2l.core.history",
    "jaxd2l.core.errors": "jaxd2l.checks.errors",
    "jaxd2l.core.evaluate": "jaxd2l.nn.evaluate",
    "jaxd2l.core.files": "jaxd2l.checks.files",
    "jaxd2l.core.grids": "jaxd2l.checks.sweeps",
    "jaxd2l.core.lazy": "jaxd2l.checks.lazy",
    "jaxd2l.core.model": "jaxd2l.core.step",
    "jaxd2l.core.numbers": "jaxd2l.checks.numbers",
    "jaxd2l.core.signatures": "jaxd2l.checks.signatures",
    "jaxd2l.core.stack": "jaxd2l.nn.stacks",
}
"""Old module path -> where it is now."""

ARGUMENTS = {
    "callbacks": "callbacks are hooks: fit(..., hooks=[fn]), fn taking the epoch's record",
    "checkpoint": "fit(..., hooks=[Checkpoint(folder)])",
    "early_stopping": "fit(..., hooks=[EarlyStopping(patience, 'validation_acc')])",
    "replay_history": "a resume replays the restored records to every hook; "
    "Callback(fn, replay=False) leaves one function out",
    "key": "the key lives in the state: init_state(params, tx, key)",
    "weights": "example weights travel with the data: train=(X, y, weights)",
    "batch_size": "the epoch holds the batch size: make_epoch(step, batch_size)",
}
"""Arguments people bring to `fit` from other trainers or earlier jaxd2l -> where they go."""

WHOLE_RUN = "one compiled program has no host between epochs: use fit for hooks"
IN_A_WHOLE_RUN = {
    k: (f"{WHOLE_RUN} ({v})" if k in ("callbacks", "checkpoint", "early_stopping") else v)
    for k, v in ARGUMENTS.items()
}
"""The same for the whole-run drivers, which take no hooks."""

D2L = {
    "Accumulator": "nothing to accumulate by hand: an epoch returns its sums "
    "(d2l.summarize(sums) gives the means)",
    "Animator": "d2l.plot.progress.default_progress(epochs), a hook of d2l.fit",
    "Timer": "the timings d2l.fit returns: result.timing (compile_s, epoch_s, total_s)",
    "accuracy": "d2l.nn.metrics.accuracy",
    "cross_entropy": "d2l.nn.losses.cross_entropy",
    "data_iter": "d2l.core.batching.epoch_indices (on the device), "
    "d2l.data.host_loader for host batches",
    "evaluate_accuracy": "d2l.make_evaluate(apply, loss, metrics)(params, X, y)",
    "evaluate_loss": "d2l.make_evaluate(apply, loss)(params, X, y)",
    "get_fashion_mnist_labels": "d2l.data.fashion_mnist.text_labels",
    "init_params": "a model's init: d2l.models.mlp.model(sizes).init(key)",
    "linreg": "d2l.models.linear.apply",
    "load_array": "arrays stay on the device: d2l.make_epoch batches them",
    "load_data_fashion_mnist": "d2l.data.fashion_mnist.load_train_test()",
    "net": "a Model(init, apply): d2l.models.softmax.model(), d2l.models.mlp.model(sizes)",
    "predict_ch3": "d2l.chapters.classification.save_predictions",
    "relu": "d2l.nn.activations.relu",
    "sgd": "d2l.sgd(lr), an optax transformation",
    "show_images": "d2l.plot.save_image_grid",
    "softmax": "d2l.nn.losses.softmax",
    "squared_loss": "d2l.nn.losses.squared_loss",
    "synthetic_data": "d2l.data.synthetic.synthetic_regression(key)",
    "train_ch3": "d2l.fit(state, epoch, train, epochs, evaluate=..., test=...), or "
    "d2l.chapters.classification.train_classifier",
    "train_epoch_ch3": "an Epoch: d2l.make_epoch(step, batch_size)(state, X, y)",
    "use_svg_display": "figures are files: d2l.plot.save_curves",
}
"""d2l's names (chapters 3-4 of the PyTorch edition) -> their equivalents here."""


def where(name: str) -> str | None:
    """Where `name` (a module path, or `jaxd2l.X` for a d2l name) is now, or None."""
    if name in MODULES:
        return f"it moved to {MODULES[name]}"
    short = name.removeprefix("jaxd2l.")
    if short in D2L:
        return f"d2l's {short}: here, {D2L[short]}"
    return None


def missing(package: str, name: str) -> AttributeError:
    """The AttributeError for `package.name`, saying where it went when it moved."""
    said = f"module {package!r} has no attribute {name!r}"
    hint = where(f"{package}.{name}") if package == "jaxd2l" or "." in package else None
    if package == "jaxd2l" and hint is None:
        hint = where(f"jaxd2l.{name}")
    return AttributeError(f"{said}: {hint}" if hint else said)


class MovedFinder(importlib.abc.MetaPathFinder):
    """Last on `sys.meta_path`: an import of a moved jaxd2l module fails naming its place."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MODULES:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: it moved to {MODULES[fullname]}", name=fullname
            )
        return None


def install() -> None:
    """Put one `MovedFinder` at the end of `sys.meta_path` (once)."""
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(MovedFinder())
