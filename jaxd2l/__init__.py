"""jaxd2l: the first deep-learning chapters of d2l as pure, jit-compiled JAX functions.

Importing the package has no side effects: no seeding, no `jax.config` updates.
Everything lives in small submodules; import what you need, e.g.
`from jaxd2l import losses, train` or `from jaxd2l.models import softmax`.
"""

__version__ = "0.1.0"
