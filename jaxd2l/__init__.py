"""jaxd2l: the first deep-learning chapters of d2l as pure, jit-compiled JAX functions.

    import jaxd2l as d2l
    from jaxd2l.models import mlp

    train, test = d2l.data.fashion_mnist.load_train_test()
    keys, model, tx = d2l.run_keys(0), mlp.model((784, 256, 10)), d2l.sgd(0.1)
    step = d2l.make_train_step(model.apply, d2l.nn.losses.cross_entropy, tx)
    epoch = d2l.make_epoch(step, 256, prepare=d2l.data.fashion_mnist.scale_images)
    result = d2l.fit(d2l.init_state(model.init(keys.init), tx, keys.train), epoch, train, 10)

The front door holds these names, one per object, and nothing else (`dir(d2l)` lists them):

- models and state: `Model`, `TrainState`, `Batch`, `init_state`, `run_keys`, `sgd`;
- the step and the epoch: `make_train_step`, `make_epoch`, `epoch_function`, `Epoch`,
  `make_evaluate`, `summarize`;
- the drivers: `fit`, `FitResult`, `make_train`, `fit_whole_run`, `fit_python_loop`;
- hooks of `fit`: `Hook`, `Checkpoint`, `EarlyStopping`, `StopTraining`, `DivergedError`;
- stacks and folds: `with_seeds`, `with_learning_rates`, `kfold_weights`;
- the layers, as packages: `checks`, `core`, `nn`, `models`, `data`, `chapters`, `search`,
  `plot`, `tools`, `cli` (`d2l.nn.losses`, `d2l.data.fashion_mnist`, ...).

A name it lacks is answered with where it went (`d2l.losses` is `d2l.nn.losses` now) or,
for d2l's own names (`d2l.train_ch3`, `d2l.Accumulator`, ...), its equivalent here
(`jaxd2l.checks.moved`). Importing the package seeds nothing, updates no `jax.config` and
loads neither tfds, matplotlib nor orbax; it adds one finder at the end of `sys.meta_path`,
so `import jaxd2l.losses` fails naming where the module went.
"""

from jaxd2l import chapters, checks, cli, core, data, models, nn, plot, search, tools
from jaxd2l.checks import moved as _moved
from jaxd2l.core.drivers import fit_python_loop, fit_whole_run, make_train
from jaxd2l.core.epoch import Epoch, epoch_function, make_epoch
from jaxd2l.core.fit import FitResult, fit
from jaxd2l.core.history import DivergedError
from jaxd2l.core.hooks import Checkpoint, Hook, StopTraining
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import Batch, Model, TrainState, init_state, make_train_step, summarize
from jaxd2l.data.folds import kfold_weights
from jaxd2l.nn.early_stopping import EarlyStopping
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.stacks import with_learning_rates, with_seeds

__version__ = "0.1.0"

PACKAGES = ("checks", "core", "nn", "models", "data", "chapters", "search", "plot", "tools", "cli")
"""The layers, lowest first; each is an attribute of the front door."""

__all__ = [
    "Batch",
    "Checkpoint",
    "DivergedError",
    "EarlyStopping",
    "Epoch",
    "FitResult",
    "Hook",
    "Model",
    "StopTraining",
    "TrainState",
    "epoch_function",
    "fit",
    "fit_python_loop",
    "fit_whole_run",
    "init_state",
    "kfold_weights",
    "make_epoch",
    "make_evaluate",
    "make_train",
    "make_train_step",
    "run_keys",
    "sgd",
    "summarize",
    "with_learning_rates",
    "with_seeds",
    "checks",
    "core",
    "nn",
    "models",
    "data",
    "chapters",
    "search",
    "plot",
    "tools",
    "cli",
]


def __dir__() -> list[str]:
    return sorted(__all__)


def __getattr__(name: str):
    """A name the front door lacks: where it moved, or d2l's name's equivalent here."""
    raise _moved.missing(__name__, name)


_moved.install()  # `import jaxd2l.losses` says where the module went
