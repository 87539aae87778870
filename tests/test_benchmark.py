import importlib.util

import pytest

from experiments import benchmark as exp


def test_smoke_run_without_torch(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        seeds=2, epochs=1, batch_size=64, torch=False, data_dir=folder, out=str(tmp_path)
    )
    result = exp.main(config)
    for model in ("softmax", "mlp"):
        summary = result["final"][model]["jaxd2l"]
        assert len(summary["test_acc"]) == 2 and summary["epoch_s_median"] > 0
        assert summary["test_acc_min"] <= summary["test_acc_median"] <= summary["test_acc_max"]
    assert (tmp_path / "benchmark.md").read_text().count("| jaxd2l |") == 2


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_smoke_run_with_the_pytorch_reference(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        models=("softmax",),
        seeds=1,
        epochs=1,
        batch_size=64,
        torch_workers=0,
        data_dir=folder,
        out=str(tmp_path),
    )
    result = exp.main(config)
    assert set(result["final"]["softmax"]) == {"jaxd2l", "d2l PyTorch"}
    assert "x |" in (tmp_path / "benchmark.md").read_text()
