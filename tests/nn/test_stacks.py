"""jaxd2l.nn.stacks: states stacked over seeds and learning rates, trained in one program."""

import jax
import numpy as np
import optax
import pytest

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, softmax
from jaxd2l.nn.activations import tanh
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.stacks import with_learning_rates, with_seeds

KEY = jax.random.key(7)


def test_with_learning_rates_needs_a_factory_and_a_list():
    params = softmax.init(jax.random.key(0), 4, 2)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        with_learning_rates(params, sgd, [], KEY)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        with_learning_rates(params, sgd, 0.1, KEY)
    with pytest.raises(TypeError, match="constructor"):
        with_learning_rates(params, optax.sgd(0.1), [0.1], KEY)
    with pytest.raises(ValueError, match=r"lrs\[1\]"):
        with_learning_rates(params, sgd, [0.1, -1.0], KEY)


@pytest.mark.slow
def test_an_ensemble_over_seeds_equals_its_members_trained_alone(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    model = mlp.model((784, 16, 10), activation=tanh)
    tx = sgd(0.1)
    keys = jax.random.split(jax.random.key(0), 3)
    step = make_train_step(model.apply, cross_entropy, tx, classification_metrics)
    tx, stacked = with_seeds(model.init, tx, keys, jax.random.key(1))
    assert stacked.key.shape == () and int(stacked.epoch) == 0  # shared by the members
    ensemble_epoch = make_epoch(jax.vmap(step, (0, None)), 64, prepare=fm.scale_images)
    together = fit(stacked, ensemble_epoch, arrays["train"], 2)
    assert len(together.last["train_loss"]) == 3  # one value per member
    single_epoch = make_epoch(step, 64, prepare=fm.scale_images)
    for i, k in enumerate(keys):
        alone = fit(
            init_state(model.init(k), tx, jax.random.key(1)), single_epoch, arrays["train"], 2
        )
        for a, b in zip(
            jax.tree.leaves(alone.params), jax.tree.leaves(together.params), strict=True
        ):
            np.testing.assert_allclose(a, b[i], atol=1e-5)


def test_with_seeds_checks_its_keys():
    with pytest.raises(ValueError, match="1-D array of PRNG keys"):
        with_seeds(lambda k: mlp.init(k, (4, 2)), sgd(0.1), jax.random.key(0), KEY)
    with pytest.raises(TypeError, match="GradientTransformation"):
        with_seeds(lambda k: mlp.init(k, (4, 2)), sgd, jax.random.split(jax.random.key(0)), KEY)
    with pytest.raises(TypeError, match="key must be a PRNG key"):
        with_seeds(lambda k: mlp.init(k, (4, 2)), sgd(0.1), jax.random.split(KEY), 0)
