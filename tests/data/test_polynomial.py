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


def test_rows_of_weights_are_checked_before_the_vmap_naming_the_row():
    # issue 39: K folds vmapped through make_train with one row all zero ended normally
    # with that fold's loss NaN
    import numpy as np
    import pytest

    from jaxd2l.data.folds import check_rows, kfold_weights

    train_w, val_w = kfold_weights(10, 5)
    assert check_rows(train_w, 10).shape == (5, 10)
    assert all(float(r.sum()) > 0 for r in val_w)  # no fold is ever empty
    bad = np.asarray(train_w).copy()
    bad[2] = 0.0
    with pytest.raises(ValueError, match=r"weights\[2\] are all zero.*row 2 of 5"):
        check_rows(bad, 10)
    bad[2], bad[3, 4] = 1.0, -1.0
    with pytest.raises(ValueError, match=r"weights\[3\] hold negative values.*row 3 of 5"):
        check_rows(bad, 10)
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"weights\[3\] hold NaN"):
        check_rows(bad, 10)
    with pytest.raises(ValueError, match=r"rows of example weights \[folds, 10\]"):
        check_rows(train_w[0], 10)
