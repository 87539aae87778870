import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import activations as act_exp
from experiments import perceptron as perc_exp
from experiments import xor as xor_exp
from jaxd2l.activations import derivative, relu, sigmoid, tanh
from jaxd2l.models import perceptron


@pytest.mark.parametrize("seed, dim, margin", [(0, 2, 0.1), (1, 5, 0.05), (2, 3, 0.2)])
def test_perceptron_converges_within_the_bound(seed, dim, margin):
    X, y, rho, r = perceptron.separable_data(jax.random.key(seed), 300, dim, margin)
    assert float(rho) >= margin and float(r) <= 1.0 + 1e-6
    result = perceptron.train(X, y, 10_000)
    assert bool(result.converged)
    assert int(result.updates) <= float(perceptron.convergence_bound(rho, r))
    assert bool((perceptron.apply(result.w, result.b, X) == y).all())


def test_perceptron_cannot_fit_xor():
    result = perceptron.train(perceptron.XOR_X, perceptron.XOR_Y, 50)
    assert not bool(result.converged) and int(result.epochs) == 50
    acc = jnp.mean(perceptron.apply(result.w, result.b, perceptron.XOR_X) == perceptron.XOR_Y)
    assert float(acc) <= 0.75


def test_too_wide_margin_is_a_clear_error():
    with pytest.raises(ValueError, match="margin 0.99 too wide"):
        perceptron.separable_data(jax.random.key(0), 100, 2, 0.99)


def test_activation_derivatives_match_closed_forms():
    x = jnp.linspace(-6, 6, 241)
    s = sigmoid(x)
    np.testing.assert_allclose(derivative(sigmoid)(x), s * (1 - s), atol=1e-6)
    np.testing.assert_allclose(derivative(tanh)(x), 1 - jnp.tanh(x) ** 2, atol=1e-6)
    np.testing.assert_allclose(derivative(relu)(x), (x > 0).astype(jnp.float32))
    np.testing.assert_allclose(tanh(x), jnp.tanh(x), atol=1e-6)
    np.testing.assert_allclose(sigmoid(x), jax.nn.sigmoid(x), atol=1e-6)
    assert bool(jnp.isfinite(tanh(jnp.array([-1e4, 1e4]))).all())


def test_experiments_perceptron_xor_activations(tmp_path):
    p = perc_exp.main(perc_exp.Config(out=str(tmp_path / "p")))["final"]
    assert p["separable"]["within_bound"] and p["separable"]["accuracy"] == 1.0
    assert not p["xor"]["converged"] and p["xor"]["accuracy"] <= 0.75
    x = xor_exp.main(xor_exp.Config(out=str(tmp_path / "x")))["final"]
    assert x["accuracy"] == 1.0
    assert (tmp_path / "x" / "xor.png").exists()
    a = act_exp.main(act_exp.Config(out=str(tmp_path / "a")))["final"]
    assert max(a["max_derivative_error"].values()) < 1e-5
    assert (tmp_path / "a" / "activations.png").exists()
