"""Models as values: `Model(init, apply)`, a pair of pure functions (the contract lives in
`jaxd2l.core.model`; re-exported here).

From scratch: `linear`, `softmax`, `mlp`, `perceptron` (no classes); concise: `concise`
wraps flax modules into the same contract.
"""

from jaxd2l.core.model import Apply, Model, Params, takes_key

__all__ = ["Apply", "Model", "Params", "takes_key"]

from jaxd2l.core.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
