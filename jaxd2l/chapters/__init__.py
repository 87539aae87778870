"""Each d2l section's own code beyond the engine: classification, model selection,
backprop and the computational graph, numerical stability, piecewise linearity,
distribution shift, house prices.
"""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
