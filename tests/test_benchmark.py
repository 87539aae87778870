import importlib.util
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from experiments import benchmark as exp
from jaxd2l import flops, train
from jaxd2l.bench import sections
from jaxd2l.bench.workloads import WORKLOADS
from jaxd2l.losses import cross_entropy
from jaxd2l.models import mlp
from jaxd2l.optim import sgd

FIELDS = {"section", "model", "batch_size", "driver", "dtype", "devices", "trials",
          "median", "min", "max", "loadavg"}  # fmt: skip


def test_hand_count_of_small_cases():
    # One 3 -> 2 layer, batch 4: forward 2*4*3*2 = 48, weight gradient 48, no input gradient.
    count = flops.dense_step_flops((3, 2), 4)
    assert count["matmul"] == 96
    # 3 -> 5 -> 2: forward 2*4*(15 + 10) = 200, weight grads 200, input grad of layer 2: 80.
    count = flops.dense_step_flops((3, 5, 2), 4)
    assert count["matmul"] == 480
    assert count["elementwise"] == 2 * 4 * 7 + 2 * 4 * 5 + 5 * 4 * 2 + 2 * (20 + 12)


@pytest.mark.parametrize("sizes", [(784, 10), (784, 256, 10), (784, 256, 128, 64, 10)])
def test_hand_count_agrees_with_xla_cost_analysis(sizes):
    B = 128
    tx = sgd(0.1)
    step = train.make_train_step(mlp.apply, cross_entropy, tx)
    state = train.init_state(mlp.init(jax.random.key(0), sizes), tx)
    batch = train.Batch(jnp.zeros((B, 784)), jnp.zeros(B, jnp.int32), jnp.ones(B, bool))
    xla = flops.xla_cost(step.lower(state, batch).compile())
    if xla is None:
        pytest.skip("this backend gives no cost analysis")
    hand = flops.dense_step_flops(sizes, B)["total"]
    assert abs(xla["flops"] - hand) / hand < 0.05
    cost = sections.step_cost(WORKLOADS["mlp"], 256)
    assert cost["source"].startswith("XLA cost analysis")


def test_cost_falls_back_to_the_hand_count_with_a_note():
    class NoCost:
        def cost_analysis(self):
            return None

    class WrongCost:
        def cost_analysis(self):
            return [{"flops": 1.0, "bytes accessed": 2.0}]

    assert flops.step_cost(NoCost(), 100.0, 50.0)["source"].startswith("hand count (no XLA")
    wrong = flops.step_cost(WrongCost(), 100.0, 50.0)
    assert wrong["flops"] == 100.0 and "99% off" in wrong["source"]


def test_bound_reads_the_roofline():
    limits = {"peak_flops": 1e11, "bandwidth": 1e10}
    assert sections.bound(1.0e-3, 1e8, 1e6, limits) == "compute"  # 1 ms of arithmetic
    assert sections.bound(1.0e-3, 1e6, 1e7, limits) == "memory"  # 1 ms of traffic
    assert sections.bound(1.0e-3, 1e6, 1e6, limits) == "overhead"


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
        assert r["min"] <= r["median"] <= r["max"]
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


def test_bad_flag_exits_2_with_one_line():
    bad = subprocess.run(
        [sys.executable, "-m", "experiments.benchmark", "--sections", "limits,nope"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "--sections" in bad.stderr


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_reference_rows_with_the_pytorch_code(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        sections=("reference",), quick=True, torch_workers=0, data_dir=folder, out=str(tmp_path)
    )
    result = exp.main(config)
    assert set(result["reference"]["softmax"]) == {"jaxd2l", "d2l PyTorch"}
    assert "x |" in (tmp_path / "bench.md").read_text()
