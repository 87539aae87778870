import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core.step import Batch, init_state, make_train_step
from jaxd2l.models import mlp
from jaxd2l.nn.activations import tanh
from jaxd2l.nn.losses import cross_entropy


def test_model_fixes_the_activation_once():
    model = mlp.model((4, 3, 2), activation=tanh)
    params = model.init(jax.random.key(0))
    X = jax.random.normal(jax.random.key(1), (5, 4))
    np.testing.assert_array_equal(model.apply(params, X), mlp.apply(params, X, tanh))
    assert not np.allclose(model.apply(params, X), mlp.apply(params, X))


@pytest.mark.parametrize("sizes", [(784, 10), (784, 256, 10), (784, 256, 128, 64, 10)])
def test_shapes_for_several_depths(key, sizes):
    params = mlp.init(key, sizes)
    assert [p["W"].shape for p in params] == list(zip(sizes[:-1], sizes[1:], strict=True))
    assert mlp.apply(params, jnp.ones((3, 28, 28, 1))).shape == (3, 10)


def test_bad_sizes_and_scheme_are_clear(key):
    with pytest.raises(ValueError, match="sizes"):
        mlp.init(key, (784,))
    with pytest.raises(ValueError, match="unknown init scheme 'glorot'"):
        mlp.init(key, (4, 2), "glorot")


def test_zero_init_keeps_every_hidden_unit_identical(key):
    X = jax.random.uniform(key, (64, 784))
    y = jnp.arange(64) % 10
    for scheme, identical in (("zeros", True), ("normal", False)):
        params = mlp.init(jax.random.key(1), (784, 16, 10), scheme)
        tx = optax.sgd(0.5)
        step = make_train_step(mlp.apply, cross_entropy, tx)
        state = init_state(params, tx, jax.random.key(0))
        for _ in range(20):
            state, _ = step(state, Batch(X, y, jnp.ones(64, bool)))
        spread = mlp.hidden_unit_spread(state.params[0]["W"])
        assert (spread["max_std_across_units"] == 0.0) is identical
        assert (spread["rank"] == 0) is identical


def test_activation_by_name_and_prelu_params_checked():
    params = mlp.init(jax.random.key(0), (4, 8, 3))
    X = jnp.ones((2, 4))
    by_name = mlp.model((4, 8, 3), activation="tanh").apply(params, X)
    from jaxd2l.nn.activations import ACTIVATIONS

    np.testing.assert_allclose(by_name, mlp.apply(params, X, ACTIVATIONS["tanh"]), rtol=1e-6)
    with pytest.raises(ValueError, match="activation 'swish' is not one of"):
        mlp.model((4, 8, 3), activation="swish")
    with pytest.raises(TypeError, match="plain mlp.init params have no slopes"):
        mlp.prelu_model((4, 8, 3)).apply(params, X)
