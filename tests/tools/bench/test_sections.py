from jaxd2l.tools.bench import sections


def test_bound_reads_the_roofline():
    limits = {"peak_flops": 1e11, "bandwidth": 1e10}
    assert sections.bound(1.0e-3, 1e8, 1e6, limits) == "compute"  # 1 ms of arithmetic
    assert sections.bound(1.0e-3, 1e6, 1e7, limits) == "memory"  # 1 ms of traffic
    assert sections.bound(1.0e-3, 1e6, 1e6, limits) == "overhead"
