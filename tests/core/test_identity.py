"""A run's identity, derived from its program and inputs (jaxd2l.core.arguments.run_identity):
a checkpoint refuses any changed setting, naming what differs, and a finished or stopped
run extends."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core.checkpoint import CheckpointError
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.hooks import Checkpoint, StopTraining
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import mlp
from jaxd2l.nn import regularization
from jaxd2l.nn.early_stopping import EarlyStopping
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import huber_loss, squared_loss
from tests.helpers import assert_trees_equal

X, Y = synthetic_regression(jax.random.key(0), num_examples=96)


def setting(
    tx=None, loss=squared_loss, dropout=0.0, activation="relu", penalty=None, scheme="normal"
):
    """(state, epoch): a 2-16-1 MLP on the regression data, every setting a knob."""
    tx = tx if tx is not None else optax.sgd(0.1)
    model = mlp.model((2, 16, 1), activation=activation, dropout=(dropout,), scheme=scheme)

    def apply(params, X, *, key=None):
        return model.apply(params, X, key=key)[:, 0]

    step = make_train_step(apply, loss, tx, penalty=penalty)
    state = init_state(model.init(jax.random.key(1)), tx, jax.random.key(2))
    return state, make_epoch(step, 16)


def stop_at(epoch):
    def crash(record):
        if record["epoch"] == epoch:
            raise KeyboardInterrupt  # a kill after the epoch's save

    return crash


CHANGED = {
    "sgd 0.1 -> 0.5": dict(tx=optax.sgd(0.5)),
    "adam 1e-3 -> 1e-2": dict(tx=optax.adam(1e-2)),
    "another loss": dict(loss=huber_loss),
    "dropout 0 -> 0.5": dict(dropout=0.5),
    "relu -> sigmoid": dict(activation="sigmoid"),
    "an L2 penalty added": dict(penalty=regularization.l2_penalty(3.0)),
}


@pytest.mark.parametrize("change", sorted(CHANGED))
def test_a_resume_under_a_changed_setting_is_refused_naming_the_program(change, tmp_path):
    base = dict(tx=optax.adam(1e-3)) if change.startswith("adam") else {}
    state, epoch = setting(**base)
    with pytest.raises(KeyboardInterrupt):
        fit(state, epoch, (X, Y), 4, hooks=[Checkpoint(str(tmp_path)), stop_at(2)])
    state, epoch = setting(**CHANGED[change])
    only_the_program = r"another run: the training program \([^)]*\) differs; "
    with pytest.raises(CheckpointError, match=only_the_program) as e:
        fit(state, epoch, (X, Y), 4, hooks=[Checkpoint(str(tmp_path))])
    assert "\n" not in str(e.value)


def test_other_inputs_are_named_and_the_same_run_resumes(tmp_path):
    state, epoch = setting()
    with pytest.raises(KeyboardInterrupt):
        fit(state, epoch, (X, Y), 4, hooks=[Checkpoint(str(tmp_path)), stop_at(2)])
    he, _ = setting(scheme="he")
    other = {
        "the initial state": lambda: fit(he, epoch, (X, Y), 4, hooks=[Checkpoint(str(tmp_path))]),
        "the training data": lambda: fit(
            state, epoch, (X, Y + 1.0), 4, hooks=[Checkpoint(str(tmp_path))]
        ),
        "the example weights": lambda: fit(
            state, epoch, (X, Y, np.arange(96) % 2), 4, hooks=[Checkpoint(str(tmp_path))]
        ),
        r"the training key \(another seed\)": lambda: fit(
            state._replace(key=jax.random.key(9)),
            epoch,
            (X, Y),
            4,
            hooks=[Checkpoint(str(tmp_path))],
        ),  # fmt: skip
        r"the evaluation \(": lambda: fit(
            state,
            epoch,
            (X, Y),
            4,
            evaluate=make_evaluate(lambda p, X: X[:, 0], squared_loss),
            test=(X, Y),
            hooks=[Checkpoint(str(tmp_path))],
        ),  # fmt: skip
    }
    for part, call in other.items():
        with pytest.raises(CheckpointError, match=f"another run: .*{part}"):
            call()
    whole = fit(state, epoch, (X, Y), 4)
    resumed = fit(state, epoch, (X, Y), 4, hooks=[Checkpoint(str(tmp_path))])
    assert resumed.history["epoch"].tolist() == [1, 2, 3, 4]
    assert_trees_equal(whole.state, resumed.state)


def test_a_finished_run_extends_to_what_an_uninterrupted_run_reaches(tmp_path):
    state, epoch = setting(dropout=0.5)  # dropout masks too are a function of (key, epoch)
    ten = fit(state, epoch, (X, Y), 10)
    five = fit(state, epoch, (X, Y), 5, hooks=[Checkpoint(str(tmp_path))])
    assert len(five.history["epoch"]) == 5
    more = fit(state, epoch, (X, Y), 10, hooks=[Checkpoint(str(tmp_path))])
    assert len(more.timing["epoch_s"]) == 5 and more.history["epoch"].tolist()[-1] == 10
    assert_trees_equal(ten.state, more.state)
    np.testing.assert_allclose(
        more.history["train_loss"].tolist(), ten.history["train_loss"].tolist(), rtol=1e-6
    )


def test_a_stopped_run_stops_again_with_its_hook_and_extends_without_it(tmp_path):
    state, epoch = setting()

    def stop_after_2(record):
        if record["epoch"] == 2:
            raise StopTraining

    stopped = fit(state, epoch, (X, Y), 4, hooks=[stop_after_2, Checkpoint(str(tmp_path))])
    assert stopped.timing["stopped_early"] and len(stopped.history["epoch"]) == 2
    again = fit(state, epoch, (X, Y), 4, hooks=[stop_after_2, Checkpoint(str(tmp_path))])
    assert again.timing["stopped_early"] and again.timing["epoch_s"] == []
    on = fit(state, epoch, (X, Y), 4, hooks=[Checkpoint(str(tmp_path))])
    assert int(on.state.epoch) == 4 and not on.timing["stopped_early"]
    assert_trees_equal(on.state, fit(state, epoch, (X, Y), 4).state)


def _validation_run(hooks, epochs=8):
    state, epoch = setting(tx=optax.sgd(0.05))
    evaluate = make_evaluate(lambda p, X: mlp.model((2, 16, 1)).apply(p, X)[:, 0], squared_loss)
    return fit(
        state, epoch, (X, Y), epochs, evaluate=evaluate, validation=(X[:24] + 0.3, Y[:24]),
        hooks=hooks,
    )  # fmt: skip


def test_hooks_resume_by_name_in_any_order(tmp_path):
    alone = EarlyStopping(2, "validation_loss", mode="min")
    whole = _validation_run([alone])
    first = EarlyStopping(2, "validation_loss", mode="min")
    with pytest.raises(KeyboardInterrupt):
        _validation_run([first, Checkpoint(str(tmp_path)), stop_at(3)])
    second = EarlyStopping(2, "validation_loss", mode="min")
    resumed = _validation_run([Checkpoint(str(tmp_path)), second])  # the other order
    assert (second.best_epoch, second.best) == (alone.best_epoch, alone.best)
    assert_trees_equal(alone.best_params, second.best_params)
    assert len(resumed.history["epoch"]) == len(whole.history["epoch"])
    with pytest.raises(ValueError, match="two hooks are named 'early_stopping'"):
        _validation_run([alone, EarlyStopping(3, "validation_loss", mode="min")])
    named = [alone, EarlyStopping(3, "validation_loss", mode="min", name="patient")]
    assert len(_validation_run(named).history["epoch"]) >= 1


def test_early_stopping_returns_the_best_epochs_parameters():
    stop = EarlyStopping(2, "validation_loss", mode="min")
    result = _validation_run([stop], epochs=40)
    best = stop.best_epoch
    assert result.params_epoch == best and best < int(result.state.epoch)
    losses = result.history["validation_loss"].tolist()
    assert best == 1 + int(np.argmin(losses))
    assert_trees_equal(result.params, _validation_run([], epochs=best).state.params)
    pairs = zip(jax.tree.leaves(result.params), jax.tree.leaves(result.state.params), strict=True)
    assert not all(bool(jnp.all(a == b)) for a, b in pairs)  # not the last epoch's
    last = _validation_run([EarlyStopping(2, "validation_loss", "min", restore_best=False)], 40)
    assert last.params_epoch == int(last.state.epoch)


def test_early_stopping_names_its_monitor_and_the_split_is_named_for_what_it_is():
    with pytest.raises(TypeError, match="monitor"):
        EarlyStopping(2)
    with pytest.raises(ValueError, match="records lack .*validation_loss"):
        _validation_run([EarlyStopping(2, "test_acc")])
    state, epoch = setting()
    evaluate = make_evaluate(lambda p, X: X[:, 0], squared_loss)
    with pytest.raises(ValueError, match="not both"):
        fit(state, epoch, (X, Y), 1, evaluate=evaluate, test=(X, Y), validation=(X, Y))
    tested = fit(state, epoch, (X, Y), 1, evaluate=evaluate, test=(X, Y))
    assert "test_loss" in tested.history and "validation_loss" not in tested.history
