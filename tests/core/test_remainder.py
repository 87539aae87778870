"""The last partial batch three ways: pad, drop, roll (every example once per pass)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core.batching import epoch_indices, rolled_indices
from jaxd2l.core.drivers import fit_python_loop, fit_whole_run, make_train
from jaxd2l.core.epoch import REMAINDERS, make_epoch
from jaxd2l.core.errors import ArgumentError
from jaxd2l.core.fit import fit
from jaxd2l.core.keys import epoch_key
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.models import softmax
from jaxd2l.nn.losses import cross_entropy


@pytest.mark.parametrize("n, size", [(10, 3), (100, 32), (7, 7), (50, 49)])
def test_roll_sees_every_example_once_per_pass(key, n, size):
    epochs = 3 * n // (n // size * size) + 2
    stream = np.concatenate(
        [np.asarray(rolled_indices(key, e, n, size)[0]).ravel() for e in range(epochs)]
    )
    batches = [np.asarray(rolled_indices(key, e, n, size)) for e in range(epochs)]
    assert all(b[1].all() and b[0].shape == (n // size, size) for b in batches)  # all full
    for p in range(len(stream) // n):  # each whole pass is a permutation
        assert sorted(stream[p * n : (p + 1) * n].tolist()) == list(range(n))


def test_roll_is_pad_when_the_batch_divides_the_data(key):
    for e in range(3):
        rolled = rolled_indices(key, e, 12, 4)[0]
        padded = epoch_indices(epoch_key(key, e), 12, 4)[0]
        assert (rolled == padded).all()


def test_roll_epoch_order_is_a_function_of_key_and_epoch(key):
    a = rolled_indices(key, jnp.int32(5), 10, 3)[0]
    b = jax.jit(rolled_indices, static_argnums=(2, 3))(key, 5, 10, 3)[0]
    assert (a == b).all()


def _setup(key, remainder):
    X = jax.random.normal(key, (50, 5))
    y = (X[:, 0] > 0).astype(jnp.int32)
    model, tx = softmax.model(5, 2), optax.sgd(0.1)
    epoch = make_epoch(make_train_step(model.apply, cross_entropy, tx), 16, remainder=remainder)
    return model, tx, epoch, X, y


@pytest.mark.parametrize("remainder", REMAINDERS)
def test_every_driver_agrees_in_each_mode(key, remainder):
    model, tx, epoch, X, y = _setup(key, remainder)
    state = init_state(model.init(key), tx)
    by_fit = fit(state, epoch, (X, y), key, 3).state.params
    whole = fit_whole_run(state, epoch, (X, y), key, 3).state.params
    for a, b in zip(jax.tree.leaves(by_fit), jax.tree.leaves(whole), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    run = make_train(lambda k: model.init(key), tx, epoch, 3)
    trained, (sums, _) = jax.jit(run)(key, X, y)
    counts = np.asarray(sums["count"])
    assert counts.tolist() == ([50.0] * 3 if remainder == "pad" else [48.0] * 3)


def test_roll_resumes_where_it_stopped(key, tmp_path):
    model, tx, epoch, X, y = _setup(key, "roll")
    state = init_state(model.init(key), tx)
    straight = fit(state, epoch, (X, y), key, 4).state.params
    first = fit(state, epoch, (X, y), key, 2).state
    # epochs 3-4 from the saved state: the roll stream continues at epoch index 2
    later = [epoch(first, X, y, key, None, jnp.int32(e))[0] for e in (2,)]
    resumed = epoch(later[0], X, y, key, None, jnp.int32(3))[0].params
    for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_roll_needs_its_epoch_and_the_python_loop_refuses_it(key):
    model, tx, epoch, X, y = _setup(key, "roll")
    state = init_state(model.init(key), tx)
    with pytest.raises(ArgumentError, match="needs its index"):
        epoch.run(state, X, y, key)
    with pytest.raises(ArgumentError, match="roll epoch"):
        fit_python_loop(state, epoch, (X, y), key, 1)


def test_remainder_is_checked():
    step = make_train_step(softmax.model(5, 2).apply, cross_entropy, optax.sgd(0.1))
    with pytest.raises(ValueError, match="remainder must be one of pad, drop, roll"):
        make_epoch(step, 4, remainder="fill")
    with pytest.raises(ValueError, match="contradicts"):
        make_epoch(step, 4, drop_remainder=True, remainder="roll")
    assert make_epoch(step, 4, drop_remainder=True).remainder == "drop"


def test_roll_counts_positions_in_int32(key):
    model, tx, epoch, X, y = _setup(key, "roll")
    state = init_state(model.init(key), tx)
    with pytest.raises(ArgumentError, match="at most 42949672 epochs"):
        fit(state, epoch, (X, y), key, 50_000_000)
    run = make_train(lambda k: model.init(key), tx, epoch, 50_000_000)
    with pytest.raises(ArgumentError, match="counts positions in int32"):
        jax.jit(run)(key, X, y)
