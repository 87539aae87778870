import jax
import numpy as np


def test_permutation_is_a_bijection_for_any_size(key):
    from jaxd2l.core.shuffle import permutation

    for n in (1, 2, 7, 1000, 65537):
        assert sorted(np.asarray(permutation(key, n)).tolist()) == list(range(n))


def test_permutation_looks_uniform():
    from collections import Counter

    from jaxd2l.core.shuffle import permutation

    keys = jax.random.split(jax.random.key(1), 24000)
    counts = Counter(map(tuple, np.asarray(jax.vmap(lambda k: permutation(k, 4))(keys)).tolist()))
    assert len(counts) == 24  # every order of 4 elements, each about 1000 times
    assert 850 < min(counts.values()) and max(counts.values()) < 1150
    first = np.asarray(jax.vmap(lambda k: permutation(k, 10))(keys))[:, 0]
    assert np.bincount(first, minlength=10).min() > 2100  # uniform first element (2400 each)
    a = np.asarray(permutation(jax.random.key(5), 10000)).astype(float)
    b = np.asarray(permutation(jax.random.key(6), 10000)).astype(float)
    assert abs(np.corrcoef(np.arange(10000), a)[0, 1]) < 0.05
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05
