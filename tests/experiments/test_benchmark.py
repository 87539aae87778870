import importlib.util
import json
import subprocess
import sys

import jax
import pytest

from experiments import benchmark as exp

FIELDS = {
    "section",
    "model",
    "batch_size",
    "driver",
    "dtype",
    "devices",
    "trials",
    "median",
    "min",
    "max",
    "loadavg",
}


@pytest.mark.slow
def test_quick_benchmark_writes_bench_json(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(quick=True, torch=False, data_dir=folder, out=str(tmp_path))
    result = exp.main(config)
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert bench["device"]["platform"] == jax.devices()[0].platform
    assert bench["limits"]["matmul_default"]["flops_per_s"] > 0
    sections_seen = {r["section"] for r in bench["records"]}
    assert sections_seen == {"models", "drivers", "precision", "trials", "devices"}
    for r in bench["records"]:
        assert FIELDS <= set(r), FIELDS - set(r)
        assert 0 < r["min"] and r["max"] < 600, r  # measured, finite, positive times
    model = next(r for r in bench["records"] if r["section"] == "models")
    assert (
        model["flops"] > 0
        and model["bytes"] > 0
        and model["bound"] in ("compute", "memory", "overhead")
    )
    drivers = [r for r in bench["records"] if r["section"] == "drivers"]
    assert {r["driver"] for r in drivers} == {"python_loop", "scan", "whole_run"}
    assert all(r["max_param_diff_vs_scan"] < 1e-5 for r in drivers)
    assert {r["dtype"] for r in bench["records"] if r["section"] == "precision"} == {
        "float32",
        "bfloat16",
    }
    for name in ("bench.md", "throughput.png", "roofline.png", "trials.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "## models" in (tmp_path / "bench.md").read_text()
    assert result["status"] == "done"
    startup = result["startup"]  # the softmax run against the floor, as fresh processes
    assert startup["wrote_metrics"] and len(startup["run"]) == len(startup["floor"]) == 1
    assert startup["run_s"] > startup["floor_s"]  # the run does all the floor does, and more
    assert "start-up: the whole softmax run" in (tmp_path / "bench.md").read_text()


@pytest.mark.slow
def test_bad_flag_exits_2_with_one_line():
    bad = subprocess.run(
        [sys.executable, "-m", "experiments.benchmark", "--sections", "limits,nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "--sections" in bad.stderr


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_reference_rows_with_the_pytorch_code(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        sections=("reference",), quick=True, torch_workers=0, data_dir=folder, out=str(tmp_path)
    )
    result = exp.main(config)
    assert set(result["reference"]["softmax"]) == {"jaxd2l", "d2l PyTorch", "tuned PyTorch"}
    assert result["reference"]["mlp"]["tuned PyTorch"]["run_s_median"] > 0
    assert "x |" in (tmp_path / "bench.md").read_text()


def test_explicit_flags_win_over_quick():
    config = exp.Config(quick=True, models=("mlp",), batch_sizes=(4096,), repeats=5).effective()
    assert config.models == ("mlp",) and config.batch_sizes == (4096,) and config.repeats == 5
    assert config.epochs == 1 and config.trials == (1, 2)  # the flags left out: shrunk
    assert exp.Config(quick=False, repeats=5).effective().epochs == 3
