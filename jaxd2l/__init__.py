"""jaxd2l: the first deep-learning chapters of d2l as pure, jit-compiled JAX functions.

    import jaxd2l as d2l
    from jaxd2l.models import mlp

    train, test = d2l.fashion_mnist.load_train_test()
    keys, model, tx = d2l.run_keys(0), mlp.model((784, 256, 10)), d2l.sgd(0.1)
    step = d2l.make_train_step(model.apply, d2l.losses.cross_entropy, tx)
    epoch = d2l.make_epoch(step, 256, prepare=d2l.fashion_mnist.scale_images)
    result = d2l.fit(d2l.init_state(model.init(keys.init), tx), epoch, train, keys.train, 10)

The dozen names a research caller needs are here. Every layer (`core`, `nn`, `models`,
`data`, `chapters`, `search`, `plot`, `tools`, `experiment`) and every public module in it
is reachable as an attribute, imported on first use whatever was imported before
(`d2l.nn.regularization`); the common ones also by their short name (`d2l.losses`,
`d2l.regularization`, `d2l.fashion_mnist`, `d2l.model_selection`, ...).
Importing the package has no side effects (no seeding, no `jax.config` updates) and loads
neither tfds, matplotlib nor orbax.
"""

from jaxd2l.core.divergence import DivergedError
from jaxd2l.core.drivers import fit_python_loop, fit_whole_run, make_train, make_whole_run
from jaxd2l.core.epoch import Epoch, make_epoch, make_evaluate
from jaxd2l.core.fit import FitResult, StopTraining, fit
from jaxd2l.core.folds import kfold_weights
from jaxd2l.core.keys import RunKeys, run_keys
from jaxd2l.core.lazy import submodule_getattr
from jaxd2l.core.model import Model
from jaxd2l.core.optim import sgd
from jaxd2l.core.stack import with_learning_rates, with_seeds
from jaxd2l.core.step import Batch, TrainState, TrainStep, init_state, make_train_step, summarize

__version__ = "0.1.0"

# The layers, each reachable as an attribute (d2l.nn.losses, d2l.chapters.backprop, ...).
PACKAGES = ("core", "nn", "models", "data", "chapters", "search", "plot", "tools", "experiment")

_SUBMODULES = {
    "activations": "jaxd2l.nn.activations",
    "losses": "jaxd2l.nn.losses",
    "metrics": "jaxd2l.nn.metrics",
    "regularization": "jaxd2l.nn.regularization",
    "checkpoint": "jaxd2l.core.checkpoint",
    "divergence": "jaxd2l.core.divergence",
    "drivers": "jaxd2l.core.drivers",
    "early_stopping": "jaxd2l.core.early_stopping",
    "errors": "jaxd2l.core.errors",
    "flops": "jaxd2l.core.flops",
    "keys": "jaxd2l.core.keys",
    "optim": "jaxd2l.core.optim",
    "parallel": "jaxd2l.core.parallel",
    "precision": "jaxd2l.core.precision",
    "stack": "jaxd2l.core.stack",
    "fashion_mnist": "jaxd2l.data.fashion_mnist",
    "synthetic": "jaxd2l.data.synthetic",
    "polynomial": "jaxd2l.data.polynomial",
    "backprop": "jaxd2l.chapters.backprop",
    "classification": "jaxd2l.chapters.classification",
    "distribution_shift": "jaxd2l.chapters.distribution_shift",
    "label_shift": "jaxd2l.chapters.label_shift",
    "graph": "jaxd2l.chapters.graph",
    "house_prices": "jaxd2l.chapters.house_prices",
    "model_selection": "jaxd2l.chapters.model_selection",
    "piecewise": "jaxd2l.chapters.piecewise",
    "stability": "jaxd2l.chapters.stability",
    "trials": "jaxd2l.search.trials",
    "bayes": "jaxd2l.search.bayes",
    "progress": "jaxd2l.plot.progress",
}

__all__ = [
    "Batch",
    "DivergedError",
    "Epoch",
    "FitResult",
    "Model",
    "RunKeys",
    "StopTraining",
    "TrainState",
    "TrainStep",
    "fit",
    "fit_python_loop",
    "fit_whole_run",
    "init_state",
    "kfold_weights",
    "make_epoch",
    "make_evaluate",
    "make_train",
    "make_train_step",
    "make_whole_run",
    "run_keys",
    "sgd",
    "summarize",
    "with_learning_rates",
    "with_seeds",
    *_SUBMODULES,
    *PACKAGES,
]


__getattr__ = submodule_getattr(__name__, _SUBMODULES)
