"""jaxd2l.core.stack: states stacked over seeds and learning rates, trained in one program."""

import jax
import numpy as np
import optax
import pytest

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.optim import sgd
from jaxd2l.core.stack import learning_rate_curves, with_learning_rates, with_seeds
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear, mlp, softmax
from jaxd2l.nn.activations import tanh
from jaxd2l.nn.losses import cross_entropy, squared_loss
from jaxd2l.nn.metrics import classification_metrics


def test_with_learning_rates_needs_a_factory_and_a_list():
    params = softmax.init(jax.random.key(0), 4, 2)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        with_learning_rates(params, sgd, [])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        with_learning_rates(params, sgd, 0.1)
    with pytest.raises(TypeError, match="constructor"):
        with_learning_rates(params, optax.sgd(0.1), [0.1])
    with pytest.raises(ValueError, match=r"lrs\[1\]"):
        with_learning_rates(params, sgd, [0.1, -1.0])


@pytest.mark.slow
def test_an_ensemble_over_seeds_equals_its_members_trained_alone(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    model = mlp.model((784, 16, 10), activation=tanh)
    tx = sgd(0.1)
    keys = jax.random.split(jax.random.key(0), 3)
    step = make_train_step(model.apply, cross_entropy, tx, classification_metrics)
    tx, stacked = with_seeds(model.init, tx, keys)
    ensemble_epoch = make_epoch(jax.vmap(step, (0, None)), 64, prepare=fm.scale_images)
    together = fit(stacked, ensemble_epoch, arrays["train"], jax.random.key(1), 2)
    assert len(together.history[-1]["train_loss"]) == 3  # one value per member
    single_epoch = make_epoch(step, 64, prepare=fm.scale_images)
    for i, k in enumerate(keys):
        alone = fit(
            init_state(model.init(k), tx),
            single_epoch,
            arrays["train"],
            jax.random.key(1),
            2,
        )
        for a, b in zip(
            jax.tree.leaves(alone.params), jax.tree.leaves(together.params), strict=True
        ):
            np.testing.assert_allclose(a, b[i], atol=1e-5)


def test_with_seeds_checks_its_keys():
    with pytest.raises(ValueError, match="1-D array of PRNG keys"):
        with_seeds(lambda k: mlp.init(k, (4, 2)), sgd(0.1), jax.random.key(0))
    with pytest.raises(TypeError, match="GradientTransformation"):
        with_seeds(lambda k: mlp.init(k, (4, 2)), sgd, jax.random.split(jax.random.key(0)))


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
