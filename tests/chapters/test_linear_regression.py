"""jaxd2l.chapters.linear_regression: the learning-rate sweep trained as one program."""

import jax
import numpy as np

from jaxd2l.chapters.linear_regression import learning_rate_curves
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear
from jaxd2l.nn.losses import squared_loss
from jaxd2l.nn.optim import sgd


def test_learning_rate_curves_vmapped_equal_runs_one_by_one(key):
    X, y = synthetic_regression(key)
    params = linear.init(jax.random.key(1), 2)

    def curves(lrs):
        return learning_rate_curves(
            linear.apply,
            squared_loss,
            params,
            sgd,
            lrs,
            (X, y),
            batch_size=10,
            epochs=1,
            key=jax.random.key(2),
        )

    both = curves([0.01, 0.1])
    assert set(both) == {"0.01", "0.1"} and len(both["0.1"]) == 100  # 1000 / 10 steps
    for lr in (0.01, 0.1):
        alone = curves([lr])
        np.testing.assert_allclose(both[str(lr)], alone[str(lr)], rtol=1e-4, atol=1e-6)
