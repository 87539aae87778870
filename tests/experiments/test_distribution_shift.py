import json

import pytest

from experiments import distribution_shift as exp


@pytest.mark.slow
def test_smoke_run(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        num_source=200,
        epochs=1,
        severities=3,
        target_size=50,
        val_size=60,
        batch_size=32,
        data_dir=folder,
        out=str(tmp_path),
    )
    final = exp.main(config)["final"]
    loss = final["covariate_shift"]["target_loss"]
    assert loss["estimated ratio"] < loss["unweighted"]
    sweep = final["label_shift"]
    assert len(sweep["severity"]) == 3 and len(sweep["estimate"][0]) == 10
    assert all(0 <= e <= 1 for e in sweep["prior_error_tv"])
    assert (tmp_path / "covariate_shift.png").exists() and (tmp_path / "label_shift.png").exists()
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "done"


@pytest.mark.parametrize(
    "flags, message",
    [
        (dict(noise=-0.1), "--noise"),
        (dict(clip=0.5), "--clip"),
        (dict(severities=1), "--severities"),
    ],
)
def test_bad_flags_name_the_flag(flags, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        exp.Config(out=str(tmp_path), **flags)
