"""Data: synthetic regression data, Fashion-MNIST through tfds, and epoch batching."""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
