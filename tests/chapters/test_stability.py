"""jaxd2l.chapters.stability:
the product of random matrices explodes, and the init schemes' variance
arguments hold (or fail) as the book says, all combinations in one program."""

import jax
import numpy as np
import pytest

from jaxd2l.chapters import stability


def test_the_product_of_random_matrices_explodes_and_matches_the_plain_product():
    log_norms = np.asarray(stability.matrix_product_log_norms(jax.random.key(0), 30))
    M = np.asarray(jax.random.normal(jax.random.key(0), (30, 4, 4)), np.float64)
    product = np.eye(4)
    for k in range(30):  # the oracle: the plain product, in float64
        product = product @ M[k]
        assert log_norms[k] == pytest.approx(np.log10(np.linalg.norm(product)), abs=1e-3)
    assert log_norms[-1] > 5  # 30 products already reach a norm above 1e5
    assert stability.matrix_product_log_norms(jax.random.key(1))[-1] > 15  # 100 of them


def test_he_keeps_relu_level_and_the_small_init_vanishes():
    X = jax.random.normal(jax.random.key(1), (128, 64))
    acts, grads = stability.all_combinations(jax.random.key(2), X, depth=12, width=64)
    acts, grads = np.asarray(acts), np.asarray(grads)
    assert acts.shape == grads.shape == (3, 3, 12)
    he, relu, normal = stability.SCHEMES.index("he"), 2, stability.SCHEMES.index("normal")
    assert 0.3 < acts[he, relu, -1] / acts[he, relu, 0] < 3  # He's argument holds for ReLU
    assert acts[normal, relu, -1] < 1e-10  # N(0, 0.01): activations vanish
    assert grads[normal, 0, 0] < 1e-6 * grads[normal, 0, -1]  # and the first layer's grads
    # one combination alone equals its place in the vmapped program
    alone = stability.layer_statistics(jax.random.key(2), X, he, relu, depth=12, width=64)
    np.testing.assert_allclose(alone[0], acts[he, relu], rtol=1e-4)


def test_a_net_without_layers_is_refused_by_name():
    X = np.ones((4, 8), np.float32)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        stability.all_combinations(jax.random.key(0), X, depth=0)
    with pytest.raises(ValueError, match="width must be >= 1"):
        stability.all_combinations(jax.random.key(0), X, depth=2, width=0)
