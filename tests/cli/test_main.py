import json
import os
import signal
import subprocess
import sys
import time

import jax
import pytest

from jaxd2l.cli import run_cli
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.step import init_state
from jaxd2l.models import softmax
from jaxd2l.nn.optim import sgd
from tests.helpers import assert_trees_equal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _command(folder, out, ckpt, *extra):
    return [
        sys.executable,
        "-m",
        "experiments.softmax_regression",
        "--data-dir",
        folder,
        "--epochs",
        "30",
        "--batch-size",
        "32",
        "--out",
        str(out),
        "--checkpoint-dir",
        str(ckpt),
        *extra,
    ]


def _final_state(ckpt_dir, lr=0.1, seed=0):
    key = jax.random.fold_in(jax.random.key(seed), 2)  # run_keys(seed).train: the state's
    target = init_state(softmax.init(jax.random.key(0)), sgd(lr), key)  # fit saves the state
    checkpointer = Checkpointer(str(ckpt_dir), flags=None, resume=True)
    state = checkpointer.restore(target, key)[0]
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


@pytest.mark.slow
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
        # a shell's background job starts its children with SIGINT ignored, and Python then
        # installs no KeyboardInterrupt: give the run the default, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
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
    assert_trees_equal(_final_state(ckpt), state)


@pytest.mark.slow
def test_module_cli_help_and_bad_flag():
    ok = subprocess.run(
        [sys.executable, "-m", "experiments.linear_regression", "--help"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "--batch-size" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "experiments.linear_regression", "--batch-size", "0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--batch-size" in bad.stderr


def test_a_flag_found_bad_later_also_exits_2(tmp_path, capsys):
    from experiments import perceptron
    from jaxd2l.cli import run_cli

    with pytest.raises(SystemExit) as e:  # a margin too wide shows only once data is drawn
        run_cli(perceptron.main, perceptron.Config, ["--margin", "0.99", "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--margin" in err and len(err.splitlines()) == 1


def test_a_diverged_experiment_exits_1_and_records_status_diverged(tmp_path, capsys):
    from experiments import linear_regression

    with pytest.raises(SystemExit) as e:
        run_cli(
            linear_regression.main,
            linear_regression.Config,
            ["--lr", "1000", "--out", str(tmp_path)],
        )
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "diverged at epoch 1" in err[0]
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["status"] == "diverged" and record["history"][0]["train_loss"] is None


@pytest.mark.slow
@pytest.mark.parametrize("process_id", [0, 1])
def test_a_lone_process_exits_with_one_line_naming_the_missing_peer(process_id, tmp_path):
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JAXD2L_INIT_TIMEOUT": "4", "JAX_PLATFORMS": "cpu"}
    t0 = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.softmax_regression",
            "--coordinator",
            f"127.0.0.1:{port}",
            "--num-processes",
            "2",
            "--process-id",
            str(process_id),
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - t0 < 30
    missing = "the other 1 process(es)" if process_id == 0 else "process 0 (the coordinator)"
    assert out.returncode == 1 and out.stderr.strip().splitlines() == [
        f"error: {missing} never joined 127.0.0.1:{port} within 4 s: start every process "
        "with the same --coordinator and --num-processes (JAXD2L_INIT_TIMEOUT sets the wait)"
    ]


def test_distributed_with_no_cluster_is_one_line():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLURM_", "OMPI_", "TPU_", "MEGASCALE_"))
    }
    out = subprocess.run(
        [sys.executable, "-m", "experiments.softmax_regression", "--distributed"],
        cwd=ROOT,
        env={**env, "JAX_PLATFORMS": "cpu"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    err = out.stderr.strip()
    assert out.returncode == 2 and "--distributed found no cluster" in err
    assert len(err.splitlines()) == 1


def test_library_argument_names_become_the_flags_that_set_them(tmp_path, capsys):
    from experiments import softmax_regression as exp
    from jaxd2l.cli.main import in_flags

    said = in_flags("batch_size 7 > 4 examples; pass `resume`, or a new checkpoint_dir", exp.Config)
    assert said == "--batch-size 7 > 4 examples; pass --resume, or a new --checkpoint-dir"
    assert (
        in_flags("the epochs ran; lr_range_x stays", exp.Config)
        == "the epochs ran; lr_range_x stays"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as e:  # a library error (no data there) at the command line
        run_cli(exp.main, exp.Config, ["--data-dir", str(empty), "--out", str(tmp_path / "o")])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "--data-dir" in err and "data_dir" not in err.replace("--data-dir", "")


def test_the_closed_event_loop_noise_is_dropped_and_other_errors_still_print(tmp_path):
    script = """
import gc, sys
from jaxd2l.cli.main import run_cli

class Leftover:  # what orbax's async reader can leave behind after a damaged step
    def __init__(self, message):
        self.message = message
    def __del__(self):
        raise RuntimeError(self.message)

def main(config):
    global kept
    kept = [Leftover("Event loop is closed"), Leftover("a real problem")]

import dataclasses
from jaxd2l.cli import ExperimentConfig
run_cli(main, ExperimentConfig, ["--out", sys.argv[1]])
"""
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "Event loop is closed" not in out.stderr and "a real problem" in out.stderr
