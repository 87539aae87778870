"""Tools around the library: the offline bundle, the accelerator check, the multi-process
launcher and the benchmark.
"""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
