import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression


def test_synthetic_shapes_and_relation(key):
    X, y = synthetic_regression(key, TRUE_W, TRUE_B, 1000, 0.0)
    assert X.shape == (1000, 2) and y.shape == (1000,)
    np.testing.assert_allclose(y, X @ jnp.asarray(TRUE_W) + TRUE_B, rtol=1e-5, atol=1e-5)


def test_synthetic_rejects_bad_input(key):
    with pytest.raises(ValueError, match="num_examples"):
        synthetic_regression(key, num_examples=0)
    with pytest.raises(ValueError, match="vector"):
        synthetic_regression(key, w=[[1.0]])
