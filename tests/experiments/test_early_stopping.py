"""experiments.early_stopping: a short run at two noise levels."""

import pytest

from experiments import early_stopping as exp


@pytest.mark.slow
def test_smoke_run(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        noise=(0.0, 0.4),
        patience=1,
        epochs=3,
        hidden=16,
        batch_size=64,
        val_size=60,
        data_dir=folder,
        out=str(tmp_path),
    )
    final = exp.main(config)["final"]
    assert set(final) == {"0", "0.4"}
    for r in final.values():
        assert 1 <= r["best_epoch"] <= r["stopped_after"] <= 3 and 0 <= r["test_acc_of_best"] <= 1
    assert (tmp_path / "stopping.png").stat().st_size > 0
