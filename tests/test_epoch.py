import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.epoch import make_evaluate
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import classification_metrics
from jaxd2l.train import summarize


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
