"""The engine every chapter uses: the model contract, keys, the train state and step,
batching, the epoch, exact evaluation, `fit` with its hooks, the whole run and the other
drivers, stacks of runs, divergence, checkpoints and placement. Imports nothing from
jaxd2l but the ground floor, `jaxd2l.checks` (argument checks, files and errors).
"""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
