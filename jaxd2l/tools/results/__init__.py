"""Results as records: `make results` runs the documented set (`catalog`) into `results/`
with each run's provenance (`provenance`, `make`); the README's blocks and the docs' Results
page are rendered from them (`render`)."""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
