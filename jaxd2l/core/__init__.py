"""The engine every chapter uses: the model contract, keys, the train state and step,
batching, the epoch, exact evaluation, `fit` with its hooks, the whole run and the other
drivers, stacks of runs, divergence, checkpoints, placement, argument checks and errors.
Imports nothing else from jaxd2l.
"""

from jaxd2l.core.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
