import jax
import numpy as np
import pytest

from jaxd2l.data import fashion_mnist as fm
from jaxd2l.search.trials import (
    Trial,
    grid,
    group_trials,
    random_trials,
    train_group,
    validation_split,
)


def test_grid_and_random_trials(key):
    trials = grid((0.1, 0.3), (0, 64), (128,))
    assert len(trials) == 4 and Trial(0.3, 64, 128) in trials
    rand = random_trials(key, 20, (0.01, 1.0), (32, 64), (64, 128))
    assert len(rand) == 20
    assert all(0.01 <= t.lr <= 1.0 and t.hidden in (32, 64) for t in rand)
    assert sum(len(g) for g in group_trials(rand).values()) == 20


def test_validation_split_is_disjoint(key):
    X, y = jax.numpy.arange(100)[:, None], jax.numpy.arange(100)
    (Xt, yt), (Xv, yv) = validation_split(key, X, y, 20)
    assert len(yv) == 20 and len(yt) == 80
    assert not set(np.asarray(yv).tolist()) & set(np.asarray(yt).tolist())
    with pytest.raises(ValueError, match="val_size must be in"):
        validation_split(key, X, y, 100)


def test_vmapped_trials_equal_trials_one_by_one(fake_fashion_mnist, key):
    folder, _ = fake_fashion_mnist
    X, y = fm.load_fashion_mnist("train", data_dir=folder, on_device=True)
    train, val = validation_split(key, X, y, 60)
    trials = grid((0.05, 0.2), (16,), (32,))
    together = train_group(trials, train, val, epochs=2, key=key)
    for i, trial in enumerate(trials):
        alone = train_group([trial], train, val, epochs=2, key=key)
        np.testing.assert_allclose(together["val_loss"][i], alone["val_loss"][0], rtol=1e-4)
        jax.tree.map(
            lambda a, b, i=i: np.testing.assert_allclose(a[i], b[0], rtol=1e-4, atol=1e-6),
            together["params"],
            alone["params"],
        )


def test_mixed_shapes_are_refused(fake_fashion_mnist, key):
    with pytest.raises(ValueError, match="share"):
        train_group([Trial(0.1, 16, 32), Trial(0.1, 32, 32)], None, None, epochs=1, key=key)


def test_an_lr_range_from_zero_is_named_not_a_math_domain_error(key):
    from jaxd2l.search.trials import random_trials

    for bad in ((0.0, 1.0), (1.0, 0.1), (0.01, float("inf"))):
        with pytest.raises(ValueError, match="lr_range must be"):
            random_trials(key, 4, bad, (8,), (4,))
