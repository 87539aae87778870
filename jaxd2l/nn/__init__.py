"""Building blocks over arrays: activations, losses, metrics, regularization, and d2l's SGD
(optim) as an optax transformation (d2l 3-4)."""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
