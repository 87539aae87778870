"""The engine every chapter uses: keys, the train step, the epoch, fit and its drivers,
stacks of runs, divergence, early stopping, checkpoints, placement, precision, the d2l SGD,
the model contract, argument checks and errors. Imports nothing else from jaxd2l.
"""

from jaxd2l.core.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
