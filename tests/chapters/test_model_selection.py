"""jaxd2l.chapters.model_selection:
polynomial fits against the closed form, sweeps as one program equal
to runs one by one, K-fold selection, and weight decay's story."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.chapters.model_selection import (
    cross_validate,
    decay_sweep,
    degree_sweep,
    make_polynomial_run,
)
from jaxd2l.data.polynomial import degree_mask, polynomial_data
from jaxd2l.data.synthetic import high_dimensional_regression


def data(seed=1):
    return polynomial_data(jax.random.key(seed))


def test_the_four_feature_fit_reaches_the_least_squares_weights():
    train, test = data()
    params, curves = degree_sweep(jax.random.key(0), train, test, [4], epochs=400)
    exact = np.linalg.lstsq(np.asarray(train[0][:, :4]), np.asarray(train[1]), rcond=None)[0]
    np.testing.assert_allclose(params["w"][0][:4], exact, atol=0.05)  # the oracle
    np.testing.assert_allclose(exact, [5, 1.2, -3.4, 5.6], atol=0.1)
    assert float(curves["test"][0, -1]) < 0.02


def test_a_vmapped_sweep_equals_its_runs_one_by_one():
    train, test = data()
    degrees = [2, 4, 20]
    params, curves = degree_sweep(jax.random.key(0), train, test, degrees, epochs=20)
    run = jax.jit(make_polynomial_run(20))
    ones = jnp.ones(100)
    for i, d in enumerate(degrees):
        alone, c = run(jax.random.key(0), degree_mask(d), ones, train, test)
        np.testing.assert_allclose(alone["w"], params["w"][i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c["test"], curves["test"][i], rtol=1e-5)


def test_two_features_underfit_and_cross_validation_picks_four():
    train, test = data()
    _, curves = degree_sweep(jax.random.key(0), train, test, [2, 4], epochs=400)
    assert float(curves["train"][0, -1]) > 1.0 > 0.05 > float(curves["train"][1, -1])
    val, best = cross_validate(jax.random.key(0), train, [2, 3, 4], num_folds=5, epochs=200)
    assert val.shape == (3, 5) and best == 4


def test_weight_decay_shrinks_the_weights_and_the_test_loss():
    train, test = high_dimensional_regression(jax.random.key(0))
    _, curves = decay_sweep(jax.random.key(1), [0.0, 3.0], train, test, epochs=100)
    w_norm, test_loss = curves["w_norm"][:, -1], curves["test"][:, -1]
    assert float(w_norm[0]) > 10 and float(w_norm[1]) < 1  # the book: about 13 and 0.4
    assert float(test_loss[1]) < float(test_loss[0]) / 10
    assert float(curves["train"][0, -1]) < 1e-3  # lambda 0 fits the 20 examples exactly
    _, concise = decay_sweep(jax.random.key(1), [0.0, 3.0], train, test, epochs=100, concise=True)
    np.testing.assert_allclose(concise["w_norm"], curves["w_norm"], rtol=1e-4)


def test_sweeps_refuse_impossible_members_by_name():
    train, test = polynomial_data(jax.random.key(0), 20, 20)
    with pytest.raises(ValueError, match="degrees must be >= 1"):
        degree_sweep(jax.random.key(0), train, test, [0], epochs=1)
    with pytest.raises(ValueError, match="above the 20 features"):
        degree_sweep(jax.random.key(0), train, test, [21], epochs=1)
    with pytest.raises(ValueError, match=r"lambdas\[0\] must be >= 0, got -3"):
        decay_sweep(jax.random.key(0), [-3.0], train, test, epochs=1)
