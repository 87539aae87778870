import jax
import jax.numpy as jnp
import pytest

from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import perceptron


def test_perceptron_labels_and_text_labels():
    X = jnp.asarray([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="-1 or \\+1"):
        perceptron.train(X, jnp.asarray([0, 1]))
    assert int(perceptron.train(X, jnp.asarray([-1, 1])).converged) == 1
    with pytest.raises(ValueError, match="0-9"):
        fm.text_labels([3, 10])
    with pytest.raises(ValueError, match="0-9"):
        fm.text_labels([-1])
    assert fm.text_labels([9]) == ["ankle boot"]


@pytest.mark.parametrize("seed, dim, margin", [(0, 2, 0.1), (1, 5, 0.05), (2, 3, 0.2)])
def test_perceptron_converges_within_the_bound(seed, dim, margin):
    X, y, rho, r = perceptron.separable_data(jax.random.key(seed), 300, dim, margin)
    assert float(rho) >= margin and float(r) <= 1.0 + 1e-6
    result = perceptron.train(X, y, 10_000)
    assert bool(result.converged)
    assert int(result.updates) <= float(perceptron.convergence_bound(rho, r))
    assert bool((perceptron.apply(result.params, X) == y).all())


def test_perceptron_cannot_fit_xor():
    result = perceptron.train(perceptron.XOR_X, perceptron.XOR_Y, 50)
    assert not bool(result.converged) and int(result.epochs) == 50
    acc = jnp.mean(perceptron.apply(result.params, perceptron.XOR_X) == perceptron.XOR_Y)
    assert float(acc) <= 0.75


def test_too_wide_margin_is_a_clear_error():
    with pytest.raises(ValueError, match="margin 0.99 too wide"):
        perceptron.separable_data(jax.random.key(0), 100, 2, 0.99)
