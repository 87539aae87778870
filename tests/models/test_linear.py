import jax.numpy as jnp
import numpy as np

from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression
from jaxd2l.models import concise, linear


def test_model_shapes(key):
    params = linear.init(key, 5)
    assert params["w"].shape == (5,) and params["b"].shape == ()
    assert linear.apply(params, jnp.ones((7, 5))).shape == (7,)
    model = concise.linear_regression(5)
    assert model.apply(model.init(key), jnp.ones((7, 5))).shape == (7,)
    scratch = linear.model(5)
    assert scratch.apply(scratch.init(key), jnp.ones((7, 5))).shape == (7,)


def test_closed_form_is_exact_without_noise(key):
    X, y = synthetic_regression(key, TRUE_W, TRUE_B, 100, 0.0)
    params = linear.closed_form(X, y)
    np.testing.assert_allclose(params["w"], TRUE_W, atol=1e-4)
    np.testing.assert_allclose(params["b"], TRUE_B, atol=1e-4)
