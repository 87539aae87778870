"""The three drivers (Python loop over a jitted step, scanned epochs, the whole run as one
program) train to the same parameters and report the same history."""

import jax
import numpy as np
import pytest

from jaxd2l.core import drivers
from jaxd2l.core.epoch import Epoch, epoch_function, make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd


def setup(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    tx = sgd(0.1)
    state = init_state(mlp.init(jax.random.key(0), (784, 16, 10)), tx, jax.random.key(1))
    step = make_train_step(mlp.apply, cross_entropy, tx, classification_metrics)
    run_epoch = make_epoch(step, 64, prepare=fm.scale_images)  # 300 = 4 x 64 + 44 padded
    evaluate = make_evaluate(
        mlp.apply, cross_entropy, classification_metrics, prepare=fm.scale_images
    )
    return state, run_epoch, arrays["train"], arrays["test"], evaluate


def test_three_drivers_reach_the_same_parameters(fake_fashion_mnist):
    state, run_epoch, data, test, evaluate = setup(fake_fashion_mnist)
    scanned = fit(state, run_epoch, data, 3, evaluate=evaluate, test=test)
    whole = drivers.fit_whole_run(state, run_epoch, data, 3, evaluate=evaluate, test=test)
    python = drivers.fit_python_loop(state, run_epoch, data, 3)
    for other in (whole, python):
        pairs = zip(jax.tree.leaves(scanned.params), jax.tree.leaves(other.params), strict=True)
        for a, b in pairs:
            np.testing.assert_allclose(a, b, atol=1e-6)
        np.testing.assert_array_equal(scanned.history["epoch"], other.history["epoch"])
        np.testing.assert_allclose(scanned.history["train_loss"], other.history["train_loss"], 1e-5)
        np.testing.assert_allclose(
            scanned.history["train_acc"], other.history["train_acc"], 0, 1e-6
        )
        np.testing.assert_allclose(scanned.untrained, other.untrained, rtol=1e-6)
    np.testing.assert_allclose(scanned.history["test_acc"], whole.history["test_acc"], 0, 1e-6)


def test_drivers_check_their_arguments(fake_fashion_mnist):
    state, run_epoch, data, test, evaluate = setup(fake_fashion_mnist)
    with pytest.raises(
        ValueError, match="evaluate needs a split to run on: pass test= or validation="
    ):
        drivers.fit_whole_run(state, run_epoch, data, 1, evaluate=evaluate)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        drivers.fit_python_loop(state, run_epoch, data, 2.0)


@pytest.mark.slow
def test_eight_seeds_in_one_program_equal_eight_separate_runs(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    model, tx = mlp.model((784, 16, 10)), sgd(0.1)
    step = make_train_step(model.apply, cross_entropy, tx, classification_metrics)
    epoch = make_epoch(step, 64, prepare=fm.scale_images)
    evaluate = make_evaluate(
        model.apply, cross_entropy, classification_metrics, prepare=fm.scale_images
    )
    run = drivers.make_train(model.init, tx, epoch, 2, observe=evaluate)
    (X, y), test = jax.device_put(arrays["train"]), jax.device_put(arrays["test"])
    roots = jax.random.split(jax.random.key(0), 8)
    seeds = jax.jit(jax.vmap(run, in_axes=(0, None, None)))(roots, (X, y), test)
    states, train_sums = seeds.state, seeds.train
    assert train_sums["loss"].shape == (8, 2) and seeds.observed["acc"].shape == (8, 2)
    assert seeds.untrained.shape == (8,)
    for i in (0, 3, 7):
        alone = jax.jit(run)(roots[i], (X, y), test)
        pairs = zip(
            jax.tree.leaves(alone.state.params), jax.tree.leaves(states.params), strict=True
        )
        for a, b in pairs:
            np.testing.assert_allclose(a, b[i], atol=1e-6)
        np.testing.assert_allclose(alone.train["loss"], train_sums["loss"][i], rtol=1e-6)
    # one run of the key is what fit does with that key's named keys
    keys = run_keys(roots[3])
    fitted = fit(init_state(model.init(keys.init), tx, keys.train), epoch, (X, y), 2)
    for a, b in zip(jax.tree.leaves(fitted.params), jax.tree.leaves(states.params), strict=True):
        np.testing.assert_allclose(a, b[3], atol=1e-6)


def test_your_own_epoch_function_is_wrapped_into_an_epoch_every_driver_takes(
    fake_fashion_mnist,
):
    state, run_epoch, data, test, evaluate = setup(fake_fashion_mnist)

    def my_epoch(state, X, y):  # draws from the state's key and epoch, as ours does
        return run_epoch.run(state, X, y)

    mine = epoch_function(my_epoch, raw_inputs=True)
    assert isinstance(mine, Epoch) and mine.unrolled is None
    ours = drivers.fit_whole_run(state, run_epoch, data, 2)
    for driver in (fit, drivers.fit_whole_run):
        result = driver(state, mine, data, 2)
        assert int(result.state.epoch) == 2  # the wrapper advances the epoch
        for a, b in zip(jax.tree.leaves(result.params), jax.tree.leaves(ours.params), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="unrolls the step of an epoch from make_epoch"):
        drivers.fit_python_loop(state, mine, data, 2)
    with pytest.raises(ValueError, match="this epoch function takes no example weights"):
        fit(state, mine, (*data, np.ones(len(data[1]))), 1)
    with pytest.raises(ValueError, match="X holds uint8 pixels but nothing scales them"):
        fit(state, epoch_function(my_epoch), data, 1)  # not declared raw: refused as ours
    with pytest.raises(TypeError, match="epoch must be an Epoch"):
        fit(state, my_epoch, data, 1)  # a plain function is named, not half-supported
    bad = epoch_function(lambda s, X, y: (s, {"loss": 0.0}), raw_inputs=True)
    with pytest.raises(ValueError, match="holding at least 'count' and 'loss'"):
        fit(state, bad, data, 1)


def test_make_train_refuses_a_grid_of_keys_naming_the_fix():
    from jaxd2l import make_train, sgd
    from jaxd2l.core.epoch import make_epoch
    from jaxd2l.core.step import make_train_step
    from jaxd2l.data.synthetic import synthetic_regression
    from jaxd2l.models import linear
    from jaxd2l.nn.losses import squared_loss

    X, y = synthetic_regression(jax.random.key(0), num_examples=20)
    tx = sgd(0.03)
    epoch = make_epoch(make_train_step(linear.apply, squared_loss, tx), 5)
    train = make_train(lambda k: linear.init(k, 2), tx, epoch, 1)
    grid = jax.random.split(jax.random.key(0), (2, 3))
    with pytest.raises(
        ValueError, match=r"key must be one PRNG key \(shape \(\)\), got keys of shape \(3,\)"
    ):
        jax.vmap(train, in_axes=(0, None, None))(grid, X, y)


def test_arguments_from_other_trainers_are_told_where_they_go():
    import jaxd2l as d2l

    for call, said in [
        (lambda: d2l.fit_whole_run(None, None, None, 1, callbacks=[print]), "use fit for hooks"),
        (lambda: d2l.fit(None, None, None, 1, callbacks=[print]), "hooks=[fn]"),
        (lambda: d2l.fit(None, None, None, 1, checkpoint="ckpt"), "Checkpoint(folder)"),
        (lambda: d2l.make_train(None, None, None, 1, batch_size=8), "make_epoch(step, batch_size)"),
        (lambda: d2l.fit_python_loop(None, None, None), "missing a required argument: 'epochs'"),
    ]:
        with pytest.raises(TypeError, match=r"it takes \(state|it takes \(init") as e:
            call()
        assert said in str(e.value)
