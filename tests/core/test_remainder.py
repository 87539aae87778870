"""The last partial batch three ways: pad, drop, roll (every example once per pass)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.batching import batch_plan, epoch_indices, rolled_indices
from jaxd2l.core.drivers import fit_python_loop, fit_whole_run, make_train
from jaxd2l.core.epoch import REMAINDERS, make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.keys import epoch_key, run_keys
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
    state = init_state(model.init(key), tx, run_keys(key).train)
    by_fit = fit(state, epoch, (X, y), 3).state.params
    others = [
        fit_whole_run(state, epoch, (X, y), 3).state.params,
        fit_python_loop(state, epoch, (X, y), 3).state.params,
    ]
    run = make_train(lambda k: model.init(key), tx, epoch, 3)
    trained = jax.jit(run)(key, (X, y))
    sums = trained.train
    others.append(trained.state.params)
    for other in others:
        for a, b in zip(jax.tree.leaves(by_fit), jax.tree.leaves(other), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)
    counts = np.asarray(sums["count"])
    assert counts.tolist() == ([50.0] * 3 if remainder == "pad" else [48.0] * 3)


def test_roll_resumes_where_it_stopped(key):
    model, tx, epoch, X, y = _setup(key, "roll")
    state = init_state(model.init(key), tx, key)
    straight = fit(state, epoch, (X, y), 4).state.params
    first = fit(state, epoch, (X, y), 2).state
    assert int(first.epoch) == 2  # the roll stream continues at epoch index 2
    later, _ = epoch(first, X, y)
    resumed, _ = epoch(later, X, y)
    for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed.params), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_one_call_in_every_mode_the_state_says_what_the_epoch_draws(key):
    model, tx, _, X, y = _setup(key, "pad")
    state = init_state(model.init(key), tx, key)
    for remainder in REMAINDERS:
        epoch = make_epoch(make_train_step(model.apply, cross_entropy, tx), 16, remainder=remainder)
        idx, mask = epoch.unrolled.plan(state, 50)
        copy = jax.tree.map(lambda x: x.copy(), state)  # the call donates its state
        after, sums = epoch(copy, X, y)  # the same call whatever the mode
        assert int(after.epoch) == 1 and int(state.epoch) == 0
        expected = batch_plan(key, 0, 50, 16, remainder)
        assert (idx == expected[0]).all() and (mask == expected[1]).all()


def test_remainder_is_checked():
    step = make_train_step(softmax.model(5, 2).apply, cross_entropy, optax.sgd(0.1))
    with pytest.raises(ValueError, match="remainder must be one of pad, drop, roll"):
        make_epoch(step, 4, remainder="fill")
    with pytest.raises(ValueError, match="contradicts"):
        make_epoch(step, 4, drop_remainder=True, remainder="roll")
    X, y = jnp.zeros((10, 5)), jnp.zeros(10, jnp.int32)
    state = init_state(
        softmax.model(5, 2).init(jax.random.key(0)), optax.sgd(0.1), jax.random.key(1)
    )
    dropped = make_epoch(step, 4, drop_remainder=True)
    assert float(dropped(state, X, y)[1]["count"]) == 8.0  # 10 = 2 x 4 + 2 dropped


def test_roll_counts_positions_in_int32(key):
    model, tx, epoch, X, y = _setup(key, "roll")
    state = init_state(model.init(key), tx, key)
    with pytest.raises(ArgumentError, match="at most 42949672 epochs"):
        fit(state, epoch, (X, y), 50_000_000)
    run = make_train(lambda k: model.init(key), tx, epoch, 50_000_000)
    with pytest.raises(ArgumentError, match="counts positions in int32"):
        jax.jit(run)(key, (X, y))
