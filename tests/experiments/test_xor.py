"""experiments.xor: a 2-H-2 MLP solves XOR."""

import pytest

from experiments import xor as exp


@pytest.mark.slow
def test_smoke_run_solves_xor(tmp_path):
    x = exp.main(exp.Config(steps=300, out=str(tmp_path)))["final"]
    assert x["accuracy"] == 1.0
    assert (tmp_path / "xor.png").stat().st_size > 0
