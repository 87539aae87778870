"""jaxd2l.core.fit: the host loop, its hooks, resume, divergence, example weights."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core import drivers
from jaxd2l.core.checkpoint import CheckpointError
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.history import DivergedError, diverged_runs
from jaxd2l.core.hooks import Checkpoint, StopTraining
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import init_state, make_train_step, summarize
from jaxd2l.data.folds import kfold_weights
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear, mlp, softmax
from jaxd2l.nn.early_stopping import EarlyStopping
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy, squared_loss
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.stacks import with_learning_rates
from tests.helpers import assert_trees_equal, classifier_fit, images


class Stop(Exception):
    pass


def regression_run(lr=0.03, key=2, n=100):
    """(state, epoch, (X, y)): linear regression, the state carrying training key `key`."""
    X, y = synthetic_regression(jax.random.key(0), num_examples=n)
    tx = sgd(lr)
    state = init_state(linear.init(jax.random.key(1), 2), tx, jax.random.key(key))
    step = make_train_step(linear.apply, squared_loss, tx)
    return state, make_epoch(step, 10), (X, y)


def dropout_regression():
    """An MLP with dropout on the regression data: its masks must resume exactly too."""
    model = mlp.model((2, 16, 1), scheme="he", dropout=(0.5,))
    return model.init(jax.random.key(1)), lambda p, X, *, key=None: model.apply(p, X, key=key)[:, 0]


@pytest.mark.parametrize("with_dropout", [False, True])
def test_an_interrupted_fit_resumes_to_the_same_numbers(with_dropout, tmp_path):
    X, y = synthetic_regression(jax.random.key(0), num_examples=200)
    tx = optax.sgd(0.01, momentum=0.9)  # optimizer state that must come back exactly
    params, apply = (
        dropout_regression() if with_dropout else (linear.init(jax.random.key(1), 2), linear.apply)
    )
    state = init_state(params, tx, jax.random.key(2))
    run_epoch = make_epoch(make_train_step(apply, squared_loss, tx), 16)
    whole = fit(state, run_epoch, (X, y), 6)

    def stop_after_3(record):
        if record["epoch"] == 3:
            raise Stop  # a crash, not a planned stop

    with pytest.raises(Stop):
        fit(state, run_epoch, (X, y), 6, hooks=[stop_after_3, Checkpoint(str(tmp_path))])
    seen = []
    resumed = fit(state, run_epoch, (X, y), 6, hooks=[seen.append, Checkpoint(str(tmp_path))])
    assert [r["epoch"] for r in seen] == [1, 2, 3, 4, 5, 6]  # saved records replayed first
    assert int(resumed.state.epoch) == 6
    assert_trees_equal(whole.state, resumed.state)
    assert resumed.last["train_loss"] == whole.last["train_loss"]


def test_a_crashing_hook_loses_its_epoch_but_the_resume_ends_the_assert_trees_equal(tmp_path):
    state, run_epoch, train = regression_run()
    whole = fit(state, run_epoch, train, 4)

    def crash_at_2(record):
        if record["epoch"] == 2:
            raise Stop

    with pytest.raises(Stop):
        fit(state, run_epoch, train, 4, hooks=[crash_at_2, Checkpoint(str(tmp_path))])
    resumed = fit(state, run_epoch, train, 4, hooks=[Checkpoint(str(tmp_path))])
    assert len(resumed.timing["epoch_s"]) == 3  # epoch 1 was saved; 2 ran again
    assert_trees_equal(whole.params, resumed.params)


def test_fit_needs_evaluate_with_test_and_an_epoch():
    X, y = images(), np.arange(32) % 10
    with pytest.raises(ValueError, match="evaluate and test go together"):
        classifier_fit(X, y, test=(X, y))
    tx = sgd(0.1)
    state = init_state(softmax.init(jax.random.key(0), 16, 10), tx, jax.random.key(0))
    with pytest.raises(TypeError, match="epoch must be an Epoch: make_epoch.*epoch_function"):
        fit(state, "epoch", (X, y), 1)
    with pytest.raises(TypeError, match="state must be a TrainState from init_state"):
        fit((state.params, state.opt_state), make_epoch(lambda s, b: (s, {}), 8), (X, y), 1)
    with pytest.raises(TypeError, match="evaluate must be a function"):
        classifier_fit(X, y, test=(X, y), evaluate=3)


def test_fit_accepts_a_plain_evaluate_function():
    X, y = images(), np.arange(32) % 10
    evaluate = make_evaluate(softmax.apply, cross_entropy, classification_metrics)
    result = classifier_fit(X, y, test=(X, y), evaluate=lambda p, X, y: evaluate(p, X, y))
    assert "test_acc" in result.history


def test_squared_loss_regression_data_still_trains():
    state, run_epoch, train = regression_run()
    result = fit(state, run_epoch, train, 2)
    assert result.last["train_loss"] < result.history["train_loss"][0]
    assert int(result.state.epoch) == 2 and int(state.epoch) == 0


def test_fit_never_deletes_the_callers_params():
    state, run_epoch, data = regression_run()
    first = fit(state, run_epoch, data, 2)
    second = fit(state, run_epoch, data, 2)  # the same init, again
    np.testing.assert_array_equal(first.params["w"], second.params["w"])
    assert not state.params["w"].is_deleted()
    assert float(jnp.abs(state.params["w"]).sum()) < 0.1  # still the untouched init


def test_epochs_is_the_epoch_to_stop_at_and_a_trained_state_continues():
    state, run_epoch, data = regression_run()
    four = fit(state, run_epoch, data, 4)
    two = fit(state, run_epoch, data, 2)
    more = fit(two.state, run_epoch, data, 4)  # epochs 3 and 4, drawn from (key, 2), (key, 3)
    assert_trees_equal(four.params, more.params)
    assert more.history["epoch"].tolist() == [3, 4]
    with pytest.raises(ValueError, match="trained 4 epochs, more than epochs=2"):
        fit(four.state, run_epoch, data, 2)


def test_a_diverging_fit_stops_at_the_first_epoch_that_breaks_the_rule():
    state, run_epoch, data = regression_run(lr=30.0)
    seen = []
    with pytest.raises(DivergedError) as e:
        fit(state, run_epoch, data, 50, hooks=[seen.append])
    err = e.value
    assert err.epoch == len(seen) == len(err.history["epoch"]) < 50
    first = float(fit(state, run_epoch, data, 1, divergence_factor=None).untrained)
    assert f"the untrained model's {first:.4g}" in str(err)
    last = seen[-1]["train_loss"]
    assert not math.isfinite(last) or last > 100 * first
    assert all(math.isfinite(r["train_loss"]) and r["train_loss"] <= 100 * first for r in seen[:-1])
    assert "lower the learning rate" in str(err)
    late = []  # with the rule off, only a loss that is not finite stops the run, later
    with pytest.raises(DivergedError):
        fit(state, run_epoch, data, 50, hooks=[late.append], divergence_factor=None)
    assert len(late) > len(seen) and not math.isfinite(late[-1]["train_loss"])


def test_every_driver_applies_the_same_rule():
    state, run_epoch, data = regression_run(lr=30.0)
    with pytest.raises(DivergedError) as e:
        fit(state, run_epoch, data, 50)
    for driver in (drivers.fit_whole_run, drivers.fit_python_loop):
        with pytest.raises(DivergedError) as other:
            driver(state, run_epoch, data, 30)
        assert other.value.epoch == e.value.epoch


def test_vmapped_trials_go_on_and_the_array_rule_marks_the_diverged():
    X, y = synthetic_regression(jax.random.key(0), num_examples=100)
    params = linear.init(jax.random.key(1), 2)
    tx, states = with_learning_rates(params, sgd, [0.03, 30.0], jax.random.key(2))
    step = jax.vmap(make_train_step(linear.apply, squared_loss, tx), (0, None))
    result = fit(states, make_epoch(step, 10), (X, y), 20)
    losses = np.asarray(result.history["train_loss"].tolist()).T  # [members, epochs]
    reference = result.untrained
    assert diverged_runs(losses, reference).tolist() == [False, True]
    assert result.last["train_loss"][0] < 1e-3


def test_stop_training_is_recorded_and_a_rerun_of_the_same_script_trains_no_further(tmp_path):
    # reproduction: the records were replayed outside the code that catches StopTraining,
    # so rerunning the script raised; and the stop was not saved, so a resume went on
    state, run_epoch, train = regression_run()

    def stop_after_2(record):
        if record["epoch"] == 2:
            raise StopTraining

    two = fit(state, run_epoch, train, 2)
    stopped = fit(state, run_epoch, train, 4, hooks=[stop_after_2, Checkpoint(str(tmp_path))])
    assert len(stopped.history["epoch"]) == 2 and stopped.timing["stopped_early"]
    assert_trees_equal(two.params, stopped.params)
    seen = []
    again = fit(
        state, run_epoch, train, 4, hooks=[stop_after_2, seen.append, Checkpoint(str(tmp_path))]
    )
    assert again.timing["stopped_early"] and again.timing["epoch_s"] == []  # nothing trained
    assert [r["epoch"] for r in seen] == [1, 2] and len(again.history["epoch"]) == 2
    assert_trees_equal(two.params, again.params)
    on = fit(state, run_epoch, train, 4, hooks=[Checkpoint(str(tmp_path))])
    assert int(on.state.epoch) == 4 and not on.timing["stopped_early"]  # no hook stops it


def test_early_stopping_and_a_checkpoint_combine_and_resume(tmp_path):
    X, y = synthetic_regression(jax.random.key(0), num_examples=100)
    state, run_epoch, train = regression_run(lr=0.05)
    evaluate = make_evaluate(linear.apply, squared_loss)
    kwargs = dict(evaluate=evaluate, test=(X[:20] + 0.3, y[:20]))
    alone = EarlyStopping(2, monitor="test_loss", mode="min")
    whole = fit(state, run_epoch, train, 8, hooks=[alone], **kwargs)

    def crash_at_4(record):
        if record["epoch"] == 4:
            raise Stop

    first = EarlyStopping(2, monitor="test_loss", mode="min")
    with pytest.raises(Stop):
        hooks = [first, crash_at_4, Checkpoint(str(tmp_path))]
        fit(state, run_epoch, train, 8, hooks=hooks, **kwargs)
    second = EarlyStopping(2, monitor="test_loss", mode="min")
    resumed = fit(state, run_epoch, train, 8, hooks=[second, Checkpoint(str(tmp_path))], **kwargs)
    assert (second.best_epoch, second.best) == (alone.best_epoch, alone.best)
    assert_trees_equal(alone.best_params, second.best_params)  # kept through the checkpoint
    assert len(resumed.history["epoch"]) == len(whole.history["epoch"])


def test_example_weights_of_ones_change_nothing_and_k_folds_train_as_one_program():
    state, run_epoch, (X, y) = regression_run()
    plain = fit(state, run_epoch, (X, y), 2)
    ones = fit(state, run_epoch, (X, y, np.ones(100)), 2)
    for a, b in zip(jax.tree.leaves(plain.params), jax.tree.leaves(ones.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    train_w, val_w = kfold_weights(100, 5)
    assert train_w.shape == (5, 100) and np.all(np.asarray(train_w + val_w) == 1)
    assert np.all(np.asarray(val_w).sum(axis=0) == 1)  # every example validates once
    evaluate = make_evaluate(linear.apply, squared_loss)
    tx = sgd(0.03)
    train = drivers.make_train(
        lambda k: linear.init(jax.random.key(1), 2), tx, run_epoch, 2, observe=evaluate
    )
    folds = jax.jit(jax.vmap(train, in_axes=(None, (None, None, 0), (None, None, 0))))
    out = folds(jax.random.key(7), (X, y, train_w), (X, y, val_w))
    states, test_sums = out.state, out.observed
    start = init_state(linear.init(jax.random.key(1), 2), tx, run_keys(jax.random.key(7)).train)
    for k in (0, 3):
        one = fit(start, run_epoch, (X, y, train_w[k]), 2, evaluate=evaluate, test=(X, y, val_w[k]))
        whole = drivers.fit_whole_run(
            start, run_epoch, (X, y, train_w[k]), 2, evaluate=evaluate, test=(X, y, val_w[k])
        )
        member = jax.tree.map(lambda p, k=k: p[k], states.params)
        assert_trees_equal(one.params, member, rtol=1e-5, atol=1e-6)
        assert_trees_equal(one.params, whole.params, rtol=1e-5, atol=1e-6)
        val_loss = summarize({n: v[k, -1] for n, v in test_sums.items()})["loss"]
        np.testing.assert_allclose(one.last["test_loss"], val_loss, rtol=1e-5)
        assert one.last["test_loss"] == pytest.approx(whole.last["test_loss"])


def test_weights_are_checked_the_same_way_by_every_entry_point():
    # reproduction: make_train clamped 50 weights for 64 examples and took negative ones
    state, run_epoch, (X, y) = regression_run(n=64)
    train = drivers.make_train(lambda k: linear.init(k, 2), sgd(0.03), run_epoch, 1)
    bad = {
        r"shape \(64,\), one per example, got \(50,\)": np.ones(50),
        "negative values": -np.ones(64),
        "NaN or infinite": np.full(64, np.nan),
        "all zero": np.zeros(64),
    }
    for message, weights in bad.items():
        for call in (
            lambda w: train(jax.random.key(0), (X, y, w)),
            lambda w: fit(state, run_epoch, (X, y, w), 1),
            lambda w: drivers.fit_whole_run(state, run_epoch, (X, y, w), 1),
            lambda w: drivers.fit_python_loop(state, run_epoch, (X, y, w), 1),
        ):
            with pytest.raises(ValueError, match=message):
                call(weights)
    with pytest.raises(ValueError, match=r"jax.vmap the run over the rows"):
        train(jax.random.key(0), (X, y, kfold_weights(64, 4)[0]))  # K folds, not vmapped
    with pytest.raises(ValueError, match=r"got \(50,\)"):
        jax.jit(train)(jax.random.key(0), (X, y, jnp.ones(50)))  # traced: the shape still


def test_held_out_weights_need_test_weights_on_the_same_examples():
    # reproduction: fit(weights=...) without test weights evaluated the training fold too
    state, run_epoch, (X, y) = regression_run()
    evaluate = make_evaluate(linear.apply, squared_loss)
    train_w, val_w = kfold_weights(100, 5)
    for driver in (fit, drivers.fit_whole_run):
        with pytest.raises(ValueError, match=r"pass test=\(X, y, val_weights\)"):
            driver(state, run_epoch, (X, y, train_w[0]), 1, evaluate=evaluate, test=(X, y))
    other = fit(state, run_epoch, (X, y, train_w[0]), 1, evaluate=evaluate, test=(X[:30], y[:30]))
    assert "test_loss" in other.history  # another split: nothing held out of it


def test_a_checkpoint_of_another_run_is_refused_naming_the_difference(tmp_path):
    # reproduction: a K-fold loop reusing one folder got fold 0's run back as fold 1
    state, run_epoch, (X, y) = regression_run()
    train_w, _ = kfold_weights(100, 5)
    folder = str(tmp_path / "ckpt")
    fit(state, run_epoch, (X, y, train_w[0]), 2, hooks=[Checkpoint(folder)])
    with pytest.raises(CheckpointError, match=r"another run: the example weights \(another fold"):
        fit(state, run_epoch, (X, y, train_w[1]), 2, hooks=[Checkpoint(folder)])
    step = make_train_step(linear.apply, squared_loss, sgd(0.03))
    roll = make_epoch(step, 10, remainder="roll")
    with pytest.raises(CheckpointError, match="another run: the training program .*remainder"):
        fit(state, roll, (X, y, train_w[0]), 2, hooks=[Checkpoint(folder)])
    with pytest.raises(CheckpointError, match=r"the training key \(another seed\)"):
        fit(state._replace(key=jax.random.key(9)), run_epoch, (X, y, train_w[0]), 2,
            hooks=[Checkpoint(folder)])  # fmt: skip
    again = fit(state, run_epoch, (X, y, train_w[0]), 2, hooks=[Checkpoint(folder)])
    assert again.timing["epoch_s"] == []  # the same run: resumed, finished


def test_fit_under_jit_says_it_is_a_host_loop_and_points_at_make_train():
    state, run_epoch, train = regression_run()
    with pytest.raises(TypeError, match="make_train"):
        jax.jit(lambda s: fit(s, run_epoch, train, 1).params)(state)


def test_hooks_must_be_a_list_of_hooks_or_functions():
    state, run_epoch, train = regression_run()
    with pytest.raises(TypeError, match=r"wrap one in \[...\]"):
        fit(state, run_epoch, train, 1, hooks=print)
    with pytest.raises(TypeError, match=r"hooks\[1\] must be a Hook or a function"):
        fit(state, run_epoch, train, 1, hooks=[print, 3])


def test_diverged_error_keeps_the_loss_and_quotes_the_runs_own_factor():
    state, run_epoch, train = regression_run(lr=0.3)  # a loss far above 1e-6x the first
    with pytest.raises(DivergedError) as e:
        fit(state, run_epoch, train, 3, divergence_factor=1e-6)
    assert e.value.factor == 1e-6 and "at most 1e-06x" in str(e.value)
    assert e.value.loss == e.value.history["train_loss"][-1] and math.isfinite(e.value.loss)
