"""Checkpoints (orbax) and exact resume: a run killed mid-way and resumed ends where a run
never interrupted ends."""

import os
import signal
import time

import jax
import numpy as np
import optax
import pytest

from jaxd2l import train
from jaxd2l.checkpoint import Checkpointer, CheckpointError
from jaxd2l.models import linear, softmax
from jaxd2l.optim import sgd


def test_state_round_trips_with_namedtuples_and_typed_keys(tmp_path):
    tx = optax.adam(0.01)
    state = train.init_state(softmax.init(jax.random.key(0), 6, 3), tx)
    key = jax.random.key(7)
    ckpt = Checkpointer(str(tmp_path), flags={"lr": 0.01})
    ckpt.save(1, state, key, [{"epoch": 1, "train_loss": 0.5}])
    ckpt.close()
    again = Checkpointer(str(tmp_path), flags={"lr": 0.01}, resume=True)
    restored, next_epoch, history = again.restore(state, key)
    assert next_epoch == 1 and history == [{"epoch": 1, "train_loss": 0.5}]
    assert type(restored.opt_state[0]) is type(state.opt_state[0])  # ScaleByAdamState
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resuming_refuses_other_flags_and_overwriting_needs_resume(tmp_path):
    state = train.init_state(linear.init(jax.random.key(0), 2), sgd(0.1))
    ckpt = Checkpointer(str(tmp_path), flags={"lr": 0.1, "epochs": 5})
    ckpt.save(2, state, jax.random.key(0), [])
    ckpt.close()
    with pytest.raises(CheckpointError, match="pass --resume"):
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
    state = train.init_state(softmax.init(jax.random.key(0)), sgd(0.1))
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
            assert checkpointer.latest_epoch() == 1
        assert signal.getsignal(sig) is not None and received == [sig]
    finally:
        signal.signal(sig, previous)
    resumed = Checkpointer(str(tmp_path), flags={}, resume=True)
    for a, b in zip(
        jax.tree.leaves(resumed.restore_state(state, key)), jax.tree.leaves(state), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    resumed.close()
