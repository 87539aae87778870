import json

import pytest

from experiments import hparam_search as exp
from jaxd2l.loop import DivergedError


@pytest.mark.slow
@pytest.mark.parametrize("method", ["grid", "random"])
def test_smoke_run(method, fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        method=method,
        trials=3,
        lrs=(0.1, 0.3),
        hidden=(16,),
        batch_sizes=(32,),
        epochs=1,
        val_size=60,
        data_dir=folder,
        out=str(tmp_path),
    )
    result = exp.main(config)
    final = result["final"]
    assert len(final["trials"]) == (2 if method == "grid" else 3)
    assert final["best"]["val_acc"] == max(t["val_acc"] for t in final["trials"])
    assert 0 <= final["best_test_acc"] <= 1 and final["vmap_speed"]["ratio"] > 0
    assert (tmp_path / "trials.csv").read_text().startswith("lr,hidden,batch_size,val_acc")
    assert (tmp_path / "trials.png").exists()


def test_bad_validation_size_names_the_flag(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    with pytest.raises(ValueError, match="--val-size"):
        exp.main(exp.Config(val_size=10**6, data_dir=folder, out=str(tmp_path)))


@pytest.mark.slow
def test_a_search_where_every_trial_diverged_says_so(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        lrs=(1e30,),
        hidden=(8,),
        epochs=2,
        val_size=50,
        batch_sizes=(64,),
        data_dir=folder,
        out=str(tmp_path),
    )
    with pytest.raises(DivergedError, match=r"every trial diverged \(1 of 1.*--lrs"):
        exp.main(config)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "diverged"
    assert (tmp_path / "trials.csv").read_text().count("\n") == 2  # header + the trial
