"""experiments.numerical_stability: a small smoke run with one training epoch."""

import pytest

from experiments import numerical_stability as exp


@pytest.mark.slow
def test_smoke_run(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(depth=6, width=32, train_width=16, data_dir=folder, out=str(tmp_path))
    final = exp.main(config)["final"]
    assert final["matrix_product_log10_norm"][-1] > 15
    assert set(final["trained_test_acc"]) == {"normal, sigmoid", "xavier, tanh", "he, relu"}
    assert len(final["layers"]) == 9
    for name in ("sigmoid.png", "layers.png"):
        assert (tmp_path / name).stat().st_size > 0
