"""Checkpoints (orbax) and exact resume: a run killed mid-way and resumed ends where a run
never interrupted ends."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import optax
import pytest

from jaxd2l import loop, train
from jaxd2l.checkpoint import Checkpointer, CheckpointError
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.losses import squared_loss
from jaxd2l.models import linear, softmax
from jaxd2l.optim import sgd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


class Stop(Exception):
    pass


def test_an_interrupted_fit_resumes_to_the_same_numbers(tmp_path):
    X, y = synthetic_regression(jax.random.key(0), num_examples=200)
    tx = optax.sgd(0.01, momentum=0.9)  # optimizer state that must come back exactly
    state = train.init_state(linear.init(jax.random.key(1), 2), tx)
    run_epoch = train.make_epoch(train.make_train_step(linear.apply, squared_loss, tx), 16)
    key, epochs = jax.random.key(2), 6
    whole = loop.fit(state, run_epoch, (X, y), key, epochs)

    def stop_after_3(record):
        if record["epoch"] == 3:
            raise Stop

    ckpt = Checkpointer(str(tmp_path), flags={"run": 1})
    with pytest.raises(Stop):
        loop.fit(state, run_epoch, (X, y), key, epochs, callbacks=[stop_after_3], checkpoint=ckpt)
    seen = []
    ckpt = Checkpointer(str(tmp_path), flags={"run": 1}, resume=True)
    resumed = loop.fit(
        state, run_epoch, (X, y), key, epochs, callbacks=[seen.append], checkpoint=ckpt
    )
    assert [r["epoch"] for r in seen] == [1, 2, 3, 4, 5, 6]  # saved records replayed first
    for a, b in zip(jax.tree.leaves(whole.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in whole.history]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in resumed.history]


def _command(folder, out, ckpt, *extra):
    return [
        sys.executable, "-m", "experiments.softmax_regression", "--data-dir", folder,
        "--epochs", "30", "--batch-size", "32", "--out", str(out),
        "--checkpoint-dir", str(ckpt), *extra,
    ]  # fmt: skip


def _final_state(ckpt_dir, lr=0.1, seed=0):
    target = train.init_state(softmax.init(jax.random.key(0)), sgd(lr))
    key = jax.random.fold_in(jax.random.key(seed), 2)
    checkpointer = Checkpointer(str(ckpt_dir), flags={}, resume=True)
    state = checkpointer.restore_state(target, key)
    checkpointer.close()
    return state


def _without_timings(history):
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in history]


@pytest.fixture(scope="module")
def uninterrupted(fake_fashion_mnist, tmp_path_factory):
    folder, _ = fake_fashion_mnist
    tmp = tmp_path_factory.mktemp("uninterrupted")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(
        _command(folder, tmp / "out", tmp / "ckpt"), cwd=ROOT, env=env, check=True, timeout=120
    )
    record = json.loads((tmp / "out" / "metrics.json").read_text())
    return record, _final_state(tmp / "ckpt")


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


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_a_killed_run_resumes_exactly(sig, fake_fashion_mnist, uninterrupted, tmp_path):
    folder, _ = fake_fashion_mnist
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    out, ckpt = tmp_path / "out", tmp_path / "ckpt"
    proc = subprocess.Popen(
        _command(folder, out, ckpt),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (ckpt / "3").exists():  # kill it once it has saved epoch 3
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended too soon"
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    saved = sorted(int(s) for s in os.listdir(ckpt) if s.isdigit())
    assert 3 <= saved[-1] < 30, "killed mid-way"
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:  # Ctrl-C / SIGTERM: exit 130, say how to resume, mark the record
        assert proc.returncode == 130
        assert "--resume" in err.strip().splitlines()[-1]
        assert json.loads((out / "metrics.json").read_text())["status"] == "interrupted"

    subprocess.run(_command(folder, out, ckpt, "--resume"), cwd=ROOT, env=env, check=True)
    record, state = uninterrupted
    resumed = json.loads((out / "metrics.json").read_text())
    assert resumed["status"] == "done" and resumed["final"] == record["final"]
    assert _without_timings(resumed["history"]) == _without_timings(record["history"])
    for a, b in zip(jax.tree.leaves(_final_state(ckpt)), jax.tree.leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resume_with_other_flags_is_refused_by_name(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    from experiments import softmax_regression as exp

    base = dict(epochs=1, batch_size=32, data_dir=folder, checkpoint_dir=str(tmp_path / "c"))
    exp.main(exp.Config(**base, out=str(tmp_path / "a")))
    with pytest.raises(CheckpointError, match="lr: checkpoint 0.1, now 0.2"):
        exp.main(exp.Config(**base, lr=0.2, resume=True, out=str(tmp_path / "b")))
