import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import losses as losses_exp
from experiments import softmax_regression as exp
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import accuracy, classification_metrics
from jaxd2l.models import concise, softmax
from jaxd2l.train import make_evaluate, summarize


def test_accuracy_counts_correct_predictions():
    logits = jnp.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert float(accuracy(logits, jnp.array([1, 1, 1]))) == 2.0


def test_evaluation_is_exact_not_a_mean_of_batch_means():
    # 5 examples in batches of 2: batch means would weight the lone last example 1/3
    logits = jnp.array([[1.0, 0.0]] * 5)
    y = jnp.array([0, 0, 0, 0, 1])
    evaluate = make_evaluate(lambda p, X: X, cross_entropy, classification_metrics, batch_size=2)
    sums = evaluate(None, logits, y)
    means = summarize(sums)
    assert float(sums["count"]) == 5
    assert float(means["acc"]) == pytest.approx(0.8)
    np.testing.assert_allclose(means["loss"], cross_entropy(logits, y).mean(), rtol=1e-6)


def test_scratch_and_concise_give_identical_logits(key):
    X = jax.random.uniform(key, (4, 28, 28, 1))
    params = softmax.init(jax.random.key(1))
    cparams, capply = concise.softmax_regression(jax.random.key(2), (28, 28, 1))
    assert jax.tree.map(jnp.shape, cparams) == {"Dense_0": {"bias": (10,), "kernel": (784, 10)}}
    cparams = {"Dense_0": {"kernel": params["W"], "bias": params["b"]}}
    np.testing.assert_allclose(capply(cparams, X), softmax.apply(params, X), rtol=1e-6)
    assert softmax.apply(params, X).shape == (4, 10)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
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
    assert result["params"] is not None


def test_learns_the_generated_classes_with_label_smoothing(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        epochs=5, batch_size=32, data_dir=folder, out=str(tmp_path), label_smoothing=0.1
    )
    assert exp.main(config)["final"]["test_acc"] > 0.9


def test_bad_label_smoothing_is_rejected():
    with pytest.raises(ValueError, match="--label-smoothing"):
        exp.Config(label_smoothing=1.0)


def test_losses_experiment(tmp_path):
    result = losses_exp.main(losses_exp.Config(out=str(tmp_path)))
    d = result["final"]["derivatives"]
    np.testing.assert_allclose(d["squared"], [-2.0, -0.5, 0.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(d["L1"], [-1, -1, 1, 1])
    np.testing.assert_allclose(d["Huber (delta=1)"], [-1.0, -0.5, 0.5, 1.0], rtol=1e-6)
    assert (tmp_path / "losses.png").stat().st_size > 0
    stability = result["final"]["softmax_stability"]
    assert stability["stable_label2"] == {"loss": 2e4, "loss_finite": True, "grad_finite": True}
    assert not stability["naive_label0"]["loss_finite"]
    assert not stability["naive_label2"]["grad_finite"]


def test_a_run_that_fails_keeps_the_epochs_it_finished(fake_fashion_mnist, tmp_path, monkeypatch):
    from jaxd2l import classification

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
