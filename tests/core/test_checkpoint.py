"""Checkpoints (orbax) and exact resume: a run killed mid-way and resumed ends where a run
never interrupted ends."""

import os
import shutil
import signal
import time

import jax
import jax.numpy as jnp
import optax
import pytest

from jaxd2l.core.checkpoint import Checkpointer, CheckpointError
from jaxd2l.core.hooks import Checkpoint
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.models import linear, softmax
from jaxd2l.nn.optim import sgd
from tests.helpers import assert_trees_equal


def test_state_round_trips_with_namedtuples_and_typed_keys(tmp_path):
    tx = optax.adam(0.01)
    state = init_state(softmax.init(jax.random.key(0), 6, 3), tx, jax.random.key(0))
    key = jax.random.key(7)
    ckpt = Checkpointer(str(tmp_path), flags={"lr": 0.01})
    ckpt.save(1, state, key, [{"epoch": 1, "train_loss": 0.5}])
    ckpt.close()
    again = Checkpointer(str(tmp_path), flags={"lr": 0.01}, resume=True)
    restored, next_epoch, history = again.restore(state, key)
    assert next_epoch == 1 and history == [{"epoch": 1, "train_loss": 0.5}]
    assert type(restored.opt_state[0]) is type(state.opt_state[0])  # ScaleByAdamState
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    assert_trees_equal(restored, state)


def test_resuming_refuses_other_flags_and_overwriting_needs_resume(tmp_path):
    state = init_state(linear.init(jax.random.key(0), 2), sgd(0.1), jax.random.key(0))
    ckpt = Checkpointer(str(tmp_path), flags={"lr": 0.1, "epochs": 5})
    ckpt.save(2, state, jax.random.key(0), [])
    ckpt.close()
    with pytest.raises(CheckpointError, match="pass `resume`"):
        Checkpointer(str(tmp_path), flags={"lr": 0.1, "epochs": 5})
    other = Checkpointer(str(tmp_path), flags={"lr": 0.2, "epochs": 5}, resume=True)
    with pytest.raises(CheckpointError, match="lr: checkpoint 0.1, now 0.2"):
        other.restore(state, jax.random.key(0))
    fresh = Checkpointer(str(tmp_path / "empty"), flags={}, resume=True)
    assert fresh.restore(state, jax.random.key(0)) is None  # nothing saved: start at epoch 1
    (tmp_path / "a-file").write_text("")
    with pytest.raises(CheckpointError, match="is a file"):
        Checkpointer(str(tmp_path / "a-file"), flags={})


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_during_a_save_waits_for_the_whole_checkpoint(sig, tmp_path):
    # a KeyboardInterrupt inside orbax's event loop left half a checkpoint, never-awaited
    # coroutines and threads that could abort the interpreter at exit
    state = init_state(softmax.init(jax.random.key(0)), sgd(0.1), jax.random.key(0))
    key = jax.random.key(1)
    received = []
    previous = signal.signal(sig, lambda signum, frame: received.append(signum))
    try:
        with Checkpointer(str(tmp_path), flags={}) as checkpointer:
            original = checkpointer.manager.save

            def save_stopped_midway(*args, **kwargs):
                os.kill(os.getpid(), sig)  # arrives while orbax writes
                time.sleep(0.05)
                assert received == [], "the signal reached the handler during the save"
                return original(*args, **kwargs)

            checkpointer.manager.save = save_stopped_midway
            checkpointer.save(1, state, key, [])
            assert received == [sig], "held, then delivered once the save was whole"
            assert checkpointer.manager.latest_step() == 1
        assert signal.getsignal(sig) is not None and received == [sig]
    finally:
        signal.signal(sig, previous)
    resumed = Checkpointer(str(tmp_path), flags={}, resume=True)
    assert_trees_equal(resumed.restore(state, key)[0], state)
    resumed.close()


def _truncate(path):
    with open(path, "r+b") as fh:
        fh.truncate(max(os.path.getsize(path) // 2, 1) - 1)


def _largest(folder):
    files = [os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs]
    return max(files, key=os.path.getsize)


DAMAGE = {
    "truncated metadata": lambda step: _truncate(os.path.join(step, "meta", "metadata")),
    "truncated arrays": lambda step: _truncate(_largest(os.path.join(step, "state"))),
    "a missing file": lambda step: os.remove(os.path.join(step, "state", "_METADATA")),
    # a kill -9 during the write: orbax writes into a temporary folder, renamed when whole
    "a write never finished": lambda step: os.rename(step, f"{step}.orbax-checkpoint-tmp-99"),
    "an emptied step folder": lambda step: [
        shutil.rmtree(os.path.join(step, d))
        for d in os.listdir(step)
        if os.path.isdir(os.path.join(step, d))
    ],
}


def _regression_fit(epochs, checkpoint=None, other_model=False, crash_at=None):
    from jaxd2l.core.epoch import make_epoch
    from jaxd2l.core.fit import fit
    from jaxd2l.data.synthetic import synthetic_regression
    from jaxd2l.nn.losses import squared_loss

    X, y = synthetic_regression(jax.random.key(0), num_examples=64)
    tx = optax.sgd(0.01, momentum=0.9)
    params = linear.model(2).init(jax.random.key(1))
    if other_model:  # another model's params: one more leaf
        params = {**params, "scale": jnp.ones(())}
    epoch = make_epoch(make_train_step(linear.apply, squared_loss, tx), 16)

    def crash(record):
        if record["epoch"] == crash_at:
            raise KeyboardInterrupt  # before the epoch's save: a kill mid-run

    hooks = [crash] + ([Checkpoint(checkpoint)] if checkpoint is not None else [])
    return fit(init_state(params, tx, jax.random.key(2)), epoch, (X, y), epochs, hooks=hooks)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_newest_step_is_skipped_and_the_run_ends_the_same(damage, tmp_path, capsys):
    whole = _regression_fit(6)
    with pytest.raises(KeyboardInterrupt), Checkpointer(str(tmp_path), flags={"run": 1}) as ckpt:
        _regression_fit(6, ckpt, crash_at=5)  # saves epochs 2, 3, 4 (the last 3 kept)
    DAMAGE[damage](str(tmp_path / "4"))
    with Checkpointer(str(tmp_path), flags={"run": 1}, resume=True) as ckpt:
        resumed = _regression_fit(6, ckpt)
    err = capsys.readouterr().err
    if damage == "a write never finished":  # never a step: nothing to warn about
        assert "damaged" not in err
    else:
        assert "the checkpoint after epoch 4" in err and "damaged" in err
        assert err.count("\n") == 1
    assert_trees_equal(whole.state, resumed.state)
    assert resumed.history["epoch"].tolist() == [1, 2, 3, 4, 5, 6]


def test_no_whole_step_is_one_error_naming_each(tmp_path):
    with pytest.raises(KeyboardInterrupt), Checkpointer(str(tmp_path), flags={}) as ckpt:
        _regression_fit(3, ckpt, crash_at=3)
    for step in ("1", "2"):
        DAMAGE["truncated metadata"](str(tmp_path / step))
    with Checkpointer(str(tmp_path), flags={}, resume=True) as ckpt:
        with pytest.raises(CheckpointError, match=r"no whole checkpoint in .*epoch 2: .*epoch 1"):
            _regression_fit(3, ckpt)


def test_another_model_is_refused_by_name_and_other_epochs_extend(tmp_path):
    with Checkpointer(str(tmp_path), flags={}) as ckpt:
        _regression_fit(3, ckpt)
    with Checkpointer(str(tmp_path), flags={}, resume=True) as ckpt:
        with pytest.raises(CheckpointError, match=r"another run: the training program"):
            _regression_fit(3, ckpt, other_model=True)  # another program, refused first
    done = _regression_fit(3, str(tmp_path))  # the same run: finished, nothing to train
    assert len(done.history["epoch"]) == 3 and done.timing["epoch_s"] == []
    fewer = _regression_fit(2, str(tmp_path))  # a path works as the checkpoint too
    assert int(fewer.state.epoch) == 3  # already past 2: nothing to train, nothing lost
    more = _regression_fit(5, str(tmp_path))
    assert len(more.history["epoch"]) == 5 and len(more.timing["epoch_s"]) == 2
    assert_trees_equal(more.state, _regression_fit(5).state)
