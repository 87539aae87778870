import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.nn.activations import derivative, relu, sigmoid, tanh


def test_activation_derivatives_match_closed_forms():
    x = jnp.linspace(-6, 6, 241)
    s = sigmoid(x)
    np.testing.assert_allclose(derivative(sigmoid)(x), s * (1 - s), atol=1e-6)
    np.testing.assert_allclose(derivative(tanh)(x), 1 - jnp.tanh(x) ** 2, atol=1e-6)
    np.testing.assert_allclose(derivative(relu)(x), (x > 0).astype(jnp.float32))
    np.testing.assert_allclose(tanh(x), jnp.tanh(x), atol=1e-6)
    np.testing.assert_allclose(sigmoid(x), jax.nn.sigmoid(x), atol=1e-6)
    assert bool(jnp.isfinite(tanh(jnp.array([-1e4, 1e4]))).all())
