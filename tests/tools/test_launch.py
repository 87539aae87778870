import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import jax
import numpy as np
import pytest

from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import init_state
from jaxd2l.models import mlp
from jaxd2l.nn.optim import sgd

pytestmark = pytest.mark.slow  # launches processes on the distributed runtime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env(**extra):
    """Forced CPU devices per process: on a GPU host too, these processes run on the CPU."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "JAX_PLATFORMS": "cpu", **extra}


def mlp_command(folder, out, ckpt):
    return [
        "-m",
        "experiments.mlp",
        "--",
        "--hidden",
        "32",
        "--data-dir",
        folder,
        "--epochs",
        "3",
        "--batch-size",
        "64",
        "--out",
        str(out),
        "--checkpoint-dir",
        str(ckpt),
    ]


def final_params(ckpt):
    key = run_keys(0).train
    target = init_state(mlp.init(jax.random.key(0), (784, 32, 10)), sgd(0.1), key)
    checkpointer = Checkpointer(str(ckpt), flags=None, resume=True)
    state = checkpointer.restore(target, key)[0]
    checkpointer.close()
    return jax.tree.leaves(state.params)


def test_two_processes_match_one_and_write_one_metrics_file(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    one = mlp_command(folder, tmp_path / "one", tmp_path / "ck1")
    subprocess.run(
        [sys.executable, *one[:2], *one[3:]], cwd=ROOT, env=env(), check=True, timeout=120
    )
    launch = [sys.executable, "-m", "jaxd2l.tools.launch", "--num-processes", "2"]
    launch += ["--cpu-devices-per-process", "2"]
    two = subprocess.run(
        [*launch, *mlp_command(folder, tmp_path / "two", tmp_path / "ck2")],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert two.returncode == 0, two.stdout[-3000:]
    lines = two.stdout.splitlines()
    assert [line for line in lines if "wrote" in line] == [
        f"[0] wrote {tmp_path / 'two' / 'metrics.json'}"
    ]
    a = json.loads((tmp_path / "one" / "metrics.json").read_text())
    b = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert b["processes"] == 2 and b["devices"] == 4 and a["devices"] == 1
    assert b["final"]["test_acc"] == a["final"]["test_acc"]
    assert b["final"]["train_loss"] == pytest.approx(a["final"]["train_loss"], rel=1e-5)
    for p, q in zip(final_params(tmp_path / "ck1"), final_params(tmp_path / "ck2"), strict=True):
        np.testing.assert_allclose(p, q, atol=1e-5)
    names = sorted(os.listdir(tmp_path / "two"))  # process 0 alone writes, one event file too
    events = [n for n in names if n.startswith("events.out.tfevents.")]
    assert len(events) == 1
    assert [n for n in names if n not in events] == [
        "curves.png",
        "metrics.json",
        "piecewise.png",
        "predictions.png",
    ]


def test_killing_one_process_stops_the_launcher_quickly(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jaxd2l.tools.launch",
            "--num-processes",
            "2",
            "-m",
            "experiments.softmax_regression",
            "--",
            "--data-dir",
            folder,
            "--epochs",
            "100000",
            "--batch-size",
            "16",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pids, lines = {}, []
    watchdog = threading.Timer(120, launcher.kill)  # bounded even if training never starts
    watchdog.start()
    try:
        for line in launcher.stdout:
            lines.append(line)
            m = re.match(r"\[launch\] process (\d): pid (\d+)", line)
            if m:
                pids[int(m.group(1))] = int(m.group(2))
            if re.match(r"\[0\] epoch +2/", line):
                break
        watchdog.cancel()
        assert set(pids) == {0, 1}, "".join(lines)
        os.kill(pids[1], signal.SIGKILL)
        t0 = time.monotonic()
        rest, _ = launcher.communicate(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        watchdog.cancel()
        if launcher.poll() is None:
            launcher.kill()
        for pid in pids.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert launcher.returncode != 0 and elapsed < 30
    assert "[launch] process 1 was killed by signal 9: stopping the others" in rest
    for pid in pids.values():  # no process left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
