"""Models as values: `Model(init, apply)`, a pair of pure functions (the contract lives in
`jaxd2l.core.step`; re-exported here).

From scratch: `linear`, `softmax`, `mlp`, `perceptron` (no classes); concise: `concise`
wraps flax Linen modules into the same contract, `concise_nnx` the same chapters in Flax
NNX; `nnx` and `equinox` turn a researcher's own NNX or Equinox module into a `Model`.
"""

from jaxd2l.checks.lazy import submodule_getattr
from jaxd2l.core.step import Apply, Model, Params, takes_key

__all__ = ["Apply", "Model", "Params", "concise_impl", "takes_key"]


def concise_impl(impl: str):
    """The flax family an experiment's `--impl` names: "concise" (Linen, `models.concise`)
    or "nnx" (`models.concise_nnx`); both build `linear_regression`, `softmax_regression`
    and `mlp`, and map scratch layers with `mlp_params`."""
    from importlib import import_module

    modules = {"concise": "jaxd2l.models.concise", "nnx": "jaxd2l.models.concise_nnx"}
    if impl not in modules:
        raise ValueError(f"impl must be one of {', '.join(modules)}, got {impl!r}")
    return import_module(modules[impl])


__getattr__ = submodule_getattr(__name__)
