"""jaxd2l: the first deep-learning chapters of d2l as pure, jit-compiled JAX functions.

    import jaxd2l as d2l
    from jaxd2l.models import mlp

    train, test = d2l.fashion_mnist.load_train_test()
    keys, model, tx = d2l.run_keys(0), mlp.model((784, 256, 10)), d2l.sgd(0.1)
    step = d2l.make_train_step(model.apply, d2l.losses.cross_entropy, tx)
    epoch = d2l.make_epoch(step, 256, prepare=d2l.fashion_mnist.scale_images)
    result = d2l.fit(d2l.init_state(model.init(keys.init), tx), epoch, train, keys.train, 10)

The dozen names a research caller needs are here; every submodule (`losses`, `models`,
`fashion_mnist`, `plot`, ...) is reachable as an attribute, imported on first use.
Importing the package has no side effects (no seeding, no `jax.config` updates) and loads
neither tfds, matplotlib nor orbax.
"""

import importlib

from jaxd2l.core.drivers import fit_python_loop, fit_whole_run, make_train, make_whole_run
from jaxd2l.core.epoch import Epoch, make_epoch, make_evaluate
from jaxd2l.core.fit import DivergedError, FitResult, fit
from jaxd2l.core.keys import RunKeys, run_keys
from jaxd2l.core.model import Model
from jaxd2l.core.optim import sgd
from jaxd2l.core.stack import with_learning_rates, with_seeds
from jaxd2l.core.step import Batch, TrainState, TrainStep, init_state, make_train_step, summarize

__version__ = "0.1.0"

_SUBMODULES = {
    "activations": "jaxd2l.nn.activations",
    "checkpoint": "jaxd2l.core.checkpoint",
    "classification": "jaxd2l.chapters.classification",
    "fashion_mnist": "jaxd2l.data.fashion_mnist",
    "hparam": "jaxd2l.search.trials",
    "losses": "jaxd2l.nn.losses",
    "metrics": "jaxd2l.nn.metrics",
    "models": "jaxd2l.models",
    "parallel": "jaxd2l.core.parallel",
    "plot": "jaxd2l.plot",
    "progress": "jaxd2l.plot.progress",
    "synthetic": "jaxd2l.data.synthetic",
}

__all__ = [
    "Batch",
    "DivergedError",
    "Epoch",
    "FitResult",
    "Model",
    "RunKeys",
    "TrainState",
    "TrainStep",
    "fit",
    "fit_python_loop",
    "fit_whole_run",
    "init_state",
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
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(_SUBMODULES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'jaxd2l' has no attribute {name!r}")
