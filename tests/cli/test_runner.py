import json

import pytest

from experiments import softmax_regression as exp
from jaxd2l.core.checkpoint import CheckpointError


def test_resume_with_other_flags_is_refused_by_name(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    from experiments import softmax_regression as exp

    base = dict(epochs=1, batch_size=32, data_dir=folder, checkpoint_dir=str(tmp_path / "c"))
    exp.main(exp.Config(**base, out=str(tmp_path / "a")))
    with pytest.raises(CheckpointError, match="lr: checkpoint 0.1, now 0.2"):
        exp.main(exp.Config(**base, lr=0.2, resume=True, out=str(tmp_path / "b")))


def test_a_run_that_fails_keeps_the_epochs_it_finished(fake_fashion_mnist, tmp_path, monkeypatch):
    from jaxd2l.chapters import classification

    folder, _ = fake_fashion_mnist

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(classification.plot, "save_curves", broken)
    config = exp.Config(epochs=2, batch_size=64, data_dir=folder, out=str(tmp_path))
    with pytest.raises(OSError, match="disk full"):
        exp.main(config)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "failed" and "disk full" in saved["error"]
    assert [r["epoch"] for r in saved["history"]] == [1, 2]
