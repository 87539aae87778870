"""jaxd2l.models.softmax: d2l 3.6's init and affine map, and wrong parameters named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.models import softmax


def test_init_shapes_and_scale():
    params = softmax.init(jax.random.key(0), 784, 10, sigma=0.01)
    assert params["W"].shape == (784, 10) and params["b"].shape == (10,)
    assert float(jnp.abs(params["b"]).max()) == 0.0
    assert 0.008 < float(params["W"].std()) < 0.012


def test_apply_is_the_affine_map_of_flattened_inputs():
    params = softmax.init(jax.random.key(0), 12, 3)
    params["b"] = jnp.arange(3.0)
    X = jax.random.uniform(jax.random.key(1), (5, 2, 3, 2))
    expected = np.asarray(X).reshape(5, 12) @ np.asarray(params["W"]) + np.arange(3.0)
    np.testing.assert_allclose(softmax.apply(params, X), expected, rtol=1e-5, atol=1e-6)
    model = softmax.model(12, 3)
    assert model.apply(model.init(jax.random.key(2)), X).shape == (5, 3)


def test_wrong_parameters_and_inputs_are_named():
    params = softmax.init(jax.random.key(0), 12, 3)
    with pytest.raises(ValueError, match="do not fit inputs of 10 features"):
        softmax.apply(params, jnp.ones((2, 10)))
    with pytest.raises(TypeError, match="must be a dict with 'W' and 'b'"):
        softmax.apply({"W": params["W"]}, jnp.ones((2, 12)))
    with pytest.raises(ValueError, match="num_outputs must be >= 1"):
        softmax.init(jax.random.key(0), 12, 0)
