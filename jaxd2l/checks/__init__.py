"""The ground floor: every check of what comes from outside, and the errors that name it.

Argument checks at the library's public boundary (the functions here, from
`jaxd2l.checks.values`: keys, integers, epochs, rates, widths, data sets, example weights),
array contracts by declaration (`arrays`), the values a sweep trains over (`sweeps`),
numbers read from text (`numbers`), calls a function cannot bind (`signatures`), paths a
user gives and files written whole (`files`), the errors a user can fix (`errors`), and
the packages' lazy submodules (`lazy`). Below the engine: imports nothing else from jaxd2l,
so `jaxd2l.core` reads as the engine alone.
"""

from jaxd2l.checks.lazy import submodule_getattr
from jaxd2l.checks.signatures import targets_fit_model
from jaxd2l.checks.values import (
    MAX_EPOCHS,
    MAX_SIZE,
    callable_,
    choice,
    class_labels,
    dataset,
    epochs,
    example_weights,
    features,
    fraction,
    integer,
    is_key,
    key,
    learning_rate,
    optimizer,
    size,
    weights_shape,
    widths,
)

__getattr__ = submodule_getattr(__name__)

__all__ = [
    "MAX_EPOCHS",
    "MAX_SIZE",
    "callable_",
    "choice",
    "class_labels",
    "dataset",
    "epochs",
    "example_weights",
    "features",
    "fraction",
    "integer",
    "is_key",
    "key",
    "learning_rate",
    "optimizer",
    "size",
    "targets_fit_model",
    "weights_shape",
    "widths",
]
