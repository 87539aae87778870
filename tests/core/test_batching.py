import jax
import numpy as np
import pytest

from jaxd2l.core.batching import epoch_indices, num_batches
from jaxd2l.data.host_loader import host_batches


@pytest.mark.parametrize("n, b", [(10, 3), (12, 4), (5, 5)])
def test_every_example_exactly_once_per_epoch(key, n, b):
    idx, mask = epoch_indices(key, n, b)
    assert idx.shape == mask.shape == (num_batches(n, b), b)
    used = np.asarray(idx)[np.asarray(mask)]
    assert sorted(used.tolist()) == list(range(n))
    assert np.asarray(mask)[:-1].all()  # only the last batch holds padding


def test_a_batch_larger_than_the_data_is_refused(key):
    # one padded batch of that size would only cost memory (10**11 examples: 400 GB)
    with pytest.raises(ValueError, match="batch_size 8 is larger than the 5 examples"):
        epoch_indices(key, 5, 8)


def test_drop_remainder(key):
    idx, mask = epoch_indices(key, 10, 3, drop_remainder=True)
    assert idx.shape == (3, 3) and bool(mask.all())
    assert len(set(np.asarray(idx).ravel().tolist())) == 9
    with pytest.raises(ValueError, match="leaves no batch"):
        epoch_indices(key, 10, 11, drop_remainder=True)


def test_order_is_deterministic_per_key_and_shuffled(key):
    a, _ = epoch_indices(key, 100, 10)
    b, _ = epoch_indices(key, 100, 10)
    c, _ = epoch_indices(jax.random.key(1), 100, 10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(np.asarray(a).ravel(), np.arange(100))
    ordered, _ = epoch_indices(None, 100, 10)
    np.testing.assert_array_equal(np.asarray(ordered).ravel(), np.arange(100))


def test_bad_batch_size_is_clear(key):
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        epoch_indices(key, 10, 0)


def test_host_batches_like_d2l_data_iter():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(host_batches(X, y, 4, seed=1))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in batches]).tolist()) == list(range(10))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], 2 * yb)  # rows stay paired with labels
    assert [len(b[1]) for b in host_batches(X, y, 4, drop_remainder=True)] == [4, 4]
    with pytest.raises(ValueError, match="y has 9"):
        next(host_batches(X, y[:9], 4))


def test_permutation_is_a_bijection_for_any_size(key):
    from jaxd2l.core.batching import permutation

    for n in (1, 2, 7, 1000, 65537):
        assert sorted(np.asarray(permutation(key, n)).tolist()) == list(range(n))


def test_permutation_looks_uniform():
    from collections import Counter

    from jaxd2l.core.batching import permutation

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
