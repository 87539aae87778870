import json

import jax
import numpy as np
import pytest

from experiments import softmax_regression as exp


def _without_timings(record):
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in record["history"]]


@pytest.mark.slow
def test_same_seed_gives_identical_results_and_another_seed_differs(fake_fashion_mnist, tmp_path):
    from experiments import mlp

    folder, _ = fake_fashion_mnist
    runs = [
        mlp.main(
            mlp.Config(
                hidden=(16,),
                epochs=2,
                batch_size=64,
                seed=seed,
                data_dir=folder,
                out=str(tmp_path / str(i)),
            )
        )
        for i, seed in enumerate((3, 3, 4))
    ]
    assert runs[0]["final"] == runs[1]["final"]
    assert _without_timings(runs[0]) == _without_timings(runs[1])
    assert runs[0]["final"] != runs[2]["final"]
    assert _without_timings(runs[0]) != _without_timings(runs[2])


@pytest.mark.parametrize("impl", ["scratch", "concise", "nnx"])
def test_one_epoch_smoke_run(impl, fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(impl=impl, epochs=1, batch_size=64, data_dir=folder, out=str(tmp_path))
    result = exp.main(config)
    final = result["final"]
    assert set(final) == {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert len(result["history"]) == 1 and "seconds" in result["history"][0]
    for name in ("curves.png", "predictions.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "done" and "params" not in saved
    leaves = jax.tree.leaves(result["params"])
    assert sorted(x.size for x in leaves) == [10, 7840]  # W [784, 10] and b [10], either impl
    assert all(np.isfinite(np.asarray(x)).all() for x in leaves)


def test_bad_label_smoothing_is_rejected():
    with pytest.raises(ValueError, match="--label-smoothing"):
        exp.Config(label_smoothing=1.0)
