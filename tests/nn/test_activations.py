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


def test_derivatives_at_the_kink_and_far_out_are_the_closed_forms():
    # A grid from linspace holds an exact 0 on some backends (the H200 did, this CPU does
    # not): there ReLU' must be 0 (d2l's and PyTorch's choice, not jnp.maximum's 1/2) and
    # tanh' must be 1 (through sign(x) or abs(x) it was 0). Far out both stay finite.
    x = jnp.array([-1e4, -30.0, -1e-30, 0.0, 1e-30, 30.0, 1e4])
    np.testing.assert_array_equal(derivative(relu)(x), [0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(derivative(tanh)(x), [0, 0, 1, 1, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(derivative(sigmoid)(jnp.zeros(1)), [0.25])
    np.testing.assert_allclose(tanh(x), jnp.tanh(x), atol=1e-6)
    for f in (relu, sigmoid, tanh):
        assert bool(jnp.isfinite(derivative(f)(x)).all()), f.__name__
    assert float(jax.jit(derivative(relu))(jnp.zeros(1))[0]) == 0.0
