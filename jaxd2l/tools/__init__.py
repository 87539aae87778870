"""Tools around the library: the offline bundle, the accelerator check, the multi-process
launcher and the benchmark.
"""
