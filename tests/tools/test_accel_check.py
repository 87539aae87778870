"""jaxd2l.tools.accel_check: it records what JAX sees, and a failing step makes it exit 1 after
writing what it measured."""

import json

import pytest

from jaxd2l.tools import accel_check


@pytest.mark.slow  # exports every program (portability) and runs subprocesses
def test_devices_and_versions_are_written(tmp_path):
    code = accel_check.main(["--out", str(tmp_path), "--skip-tests", "--skip-benchmark"])
    assert code == 0
    devices = json.loads((tmp_path / "devices.json").read_text())
    import jax

    assert devices["platform"] == jax.default_backend() and devices["devices"]
    assert devices["versions"]["jax"] == jax.__version__
    assert json.loads((tmp_path / "accel_check.json").read_text())["status"] == "passed"


@pytest.mark.slow
def test_a_failed_step_exits_1_after_writing_its_log(tmp_path, monkeypatch):
    monkeypatch.setitem(accel_check.BENCH, "cpu", ["--sections", "no-such-section"])
    code = accel_check.main(["--out", str(tmp_path), "--skip-tests", "--size", "cpu"])
    assert code == 1
    summary = json.loads((tmp_path / "accel_check.json").read_text())
    assert summary["status"] == "failed" and summary["steps"]["benchmark"]["exit"] == 2
    assert "--sections" in (tmp_path / "bench.log").read_text()
    assert (tmp_path / "devices.json").exists()


def test_an_out_that_is_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(SystemExit) as e:
        accel_check.main(["--out", str(target), "--skip-tests", "--skip-benchmark"])
    assert e.value.code == 2
    assert "it is a file, not a folder" in capsys.readouterr().err


def test_the_root_is_the_repository_with_its_tests_and_experiments():
    import os

    assert os.path.isdir(os.path.join(accel_check.ROOT, "tests"))
    assert os.path.isfile(os.path.join(accel_check.ROOT, "experiments", "benchmark.py"))
