"""Accelerator benchmarks: the device's own limits, models across batch sizes, drivers,
precision, vmapped trials and devices, as records for bench.json (`experiments.benchmark`)."""

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
