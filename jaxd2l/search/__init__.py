"""Hyperparameter search: trials (grid, random, trained as vmapped groups), the search
loop with its resume, and Bayesian search (Optuna).
"""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
