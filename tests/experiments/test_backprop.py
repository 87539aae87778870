"""experiments.backprop: a small run."""

import pytest

from experiments import backprop as exp


@pytest.mark.slow
def test_smoke_run(tmp_path):
    final = exp.main(exp.Config(depths=(1, 4), batches=(64, 256), width=64, out=str(tmp_path)))[
        "final"
    ]
    assert final["max_gradient_gap"] < 1e-5
    assert (tmp_path / "memory_depth.png").stat().st_size > 0
    assert (tmp_path / "remat.png").stat().st_size > 0
    remat = final["remat_by_depth"]["4"]
    assert remat["rematerialized"]["flops"] > remat["stored"]["flops"]
    assert final["graph"]["graph"] == {"values": 10, "operators": 6}
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
