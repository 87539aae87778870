"""jaxd2l.core.keys: every key of a run by name from one root; batch keys from (epoch, batch)."""

import jax
import numpy as np
import pytest

from jaxd2l.core.keys import RunKeys, batch_key, epoch_key, run_keys


def bits(key):
    return np.asarray(jax.random.key_data(key)).tolist()


def test_names_are_distinct_and_a_seed_equals_its_root_key():
    keys = run_keys(7)
    named = [bits(k) for k in keys[1:]]
    assert len({str(b) for b in named}) == len(named) == len(RunKeys._fields) - 1
    assert all(bits(a) == bits(b) for a, b in zip(keys, run_keys(jax.random.key(7)), strict=True))
    assert bits(run_keys(8).init) != bits(keys.init)


def test_run_keys_vmaps_over_roots():
    roots = jax.random.split(jax.random.key(0), 3)
    stacked = jax.vmap(run_keys)(roots)
    for i in range(3):
        assert bits(stacked.train[i]) == bits(run_keys(roots[i]).train)


def test_group_keys_never_collide():
    keys = run_keys(0)
    # the old numbering (1000 + hidden * 7919 + batch) gave these two pairs one key
    assert bits(keys.group_key(0, 7919)) != bits(keys.group_key(1, 0))
    seen = {str(bits(keys.group_key(h, b))) for h in (0, 64, 256) for b in (32, 7919, 8192)}
    assert len(seen) == 9


def test_batch_keys_differ_by_epoch_and_batch_and_repeat():
    train = run_keys(0).train
    grid = [[str(bits(batch_key(epoch_key(train, e), b))) for b in range(4)] for e in range(3)]
    assert len({k for row in grid for k in row}) == 12
    assert bits(batch_key(epoch_key(train, 2), 3)) == bits(batch_key(epoch_key(train, 2), 3))


def test_bad_seeds_are_clear():
    with pytest.raises(TypeError, match="seed must be an integer"):
        run_keys(1.5)
