"""Stacks of models in one program: an ensemble over seeds, an MLP with another activation."""

import jax
import numpy as np
import pytest

from jaxd2l import loop, train
from jaxd2l.activations import tanh
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import classification_metrics
from jaxd2l.models import mlp
from jaxd2l.optim import sgd


def test_an_ensemble_over_seeds_equals_its_members_trained_alone(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    model = mlp.model((784, 16, 10), activation=tanh)
    tx = sgd(0.1)
    keys = jax.random.split(jax.random.key(0), 3)
    step = train.make_train_step(model.apply, cross_entropy, tx, classification_metrics, jit=False)
    stacked = train.with_seeds(model.init, tx, keys)
    ensemble_epoch = train.make_epoch(jax.vmap(step, (0, None)), 64, prepare=fm.scale_images)
    together = loop.fit(stacked, ensemble_epoch, arrays["train"], jax.random.key(1), 2)
    assert len(together.history[-1]["train_loss"]) == 3  # one value per member
    single_epoch = train.make_epoch(step, 64, prepare=fm.scale_images)
    for i, k in enumerate(keys):
        alone = loop.fit(
            train.init_state(model.init(k), tx), single_epoch, arrays["train"],
            jax.random.key(1), 2,
        )  # fmt: skip
        for a, b in zip(
            jax.tree.leaves(alone.params), jax.tree.leaves(together.params), strict=True
        ):
            np.testing.assert_allclose(a, b[i], atol=1e-5)


def test_model_fixes_the_activation_once():
    model = mlp.model((4, 3, 2), activation=tanh)
    params = model.init(jax.random.key(0))
    X = jax.random.normal(jax.random.key(1), (5, 4))
    np.testing.assert_array_equal(model.apply(params, X), mlp.apply(params, X, tanh))
    assert not np.allclose(model.apply(params, X), mlp.apply(params, X))


def test_with_seeds_checks_its_keys():
    with pytest.raises(ValueError, match="1-D array of PRNG keys"):
        train.with_seeds(lambda k: mlp.init(k, (4, 2)), sgd(0.1), jax.random.key(0))
    with pytest.raises(TypeError, match="GradientTransformation"):
        train.with_seeds(lambda k: mlp.init(k, (4, 2)), sgd, jax.random.split(jax.random.key(0)))
