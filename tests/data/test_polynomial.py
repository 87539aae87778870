"""jaxd2l.data.polynomial: d2l 4.4's features, degree masks and fold weights."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.data.folds import fold_weights
from jaxd2l.data.polynomial import TRUE_W, degree_mask, features, polynomial_data


def test_features_are_powers_over_factorials():
    X = features(jnp.asarray([2.0]), 6)
    np.testing.assert_allclose(X[0], [2.0**i / math.factorial(i) for i in range(6)], rtol=1e-6)


def test_the_data_follows_the_cubic():
    (X, y), (Xt, yt) = polynomial_data(jax.random.key(0), noise=0.0)
    assert X.shape == (100, 20) and Xt.shape == (100, 20)
    np.testing.assert_allclose(y, X[:, :4] @ jnp.asarray(TRUE_W), rtol=1e-5, atol=1e-5)


def test_degree_masks_and_folds():
    np.testing.assert_array_equal(degree_mask(3, 5), [1, 1, 1, 0, 0])
    folds = np.asarray(fold_weights(10, 3))
    assert folds.shape == (3, 10)
    np.testing.assert_array_equal((1 - folds).sum(axis=0), np.ones(10))  # one val fold each
    with pytest.raises(ValueError, match="larger than the 4 examples"):
        fold_weights(4, 5)
