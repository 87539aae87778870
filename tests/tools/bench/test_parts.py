"""The benchmark's parts on their own: timing, workloads, limits, reports, the reference
table, start-up wording and the suite's notes (the sections themselves: test_sections)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.tools.bench import limits, reference, report, startup, suite, timing, workloads


def test_seconds_waits_for_each_result_and_spread_summarises():
    calls = []
    times = timing.seconds(lambda: calls.append(1) or jnp.ones(3), repeats=3, warmup=2)
    assert len(times) == 3 and len(calls) == 5 and all(t >= 0 for t in times)
    assert timing.spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    compiled, s = timing.compile_seconds(jax.jit(lambda x: x + 1), jnp.ones(2))
    assert s >= 0 and np.asarray(compiled(jnp.ones(2))).tolist() == [2.0, 2.0]


def test_workloads_build_their_models_and_pick_their_data():
    data = {"fashion": ("images", "test"), "regression": ("xy", None)}
    for name, w in workloads.WORKLOADS.items():
        params = w.init(jax.random.key(0))
        X = jnp.ones((2, w.sizes[0]))
        assert w.apply(params, X).shape[-1] == w.sizes[-1] or not w.classifier, name
        assert workloads.data_for(w, data) == (
            data["fashion"] if w.classifier else data["regression"]
        )


def test_a_small_matmul_rate_counts_two_n_cubed_flops():
    r = limits.matmul_rate(64, 2, "highest")
    assert r["n"] == 64 and r["flops_per_s"] == pytest.approx(2 * 64**3 / r["median"])


LIMITS = {
    "matmul_default": {"flops_per_s": 2e11, "n": 2048},
    "matmul_highest": {"flops_per_s": 1e11, "n": 2048},
    "bandwidth": {"bytes_per_s": 2e10, "kind": "reduction"},
    "dispatch": {"median": 1e-5},
    "host_to_device": {"bytes_per_s": 5e9},
}


def test_reports_render_the_limits_and_records():
    text = report.limits_table(LIMITS)
    assert "200.0 GFLOP/s (n=2048)" in text and "20.0 GB/s" in text and "10.0 us" in text
    rows = [{"model": "mlp", "s": 0.25, "note": None}]
    table = report.records_table(rows, [("model", "model"), ("s/epoch", "s"), ("note", "note")])
    assert table.splitlines()[2] == "| mlp | 0.25 |  |"
    assert suite.roof_of(LIMITS) == {"peak_flops": 2e11, "bandwidth": 2e10}
    assert suite.roof_of(None)["peak_flops"] == float("inf")


def test_the_reference_summary_table_and_briefs():
    runs = [[{"test_acc": 0.8, "train_loss": 0.5, "seconds": 1.0}]] * 2
    summary = reference.summarize_runs(runs, [3.0, 0.1], [12.0, 10.0])
    assert summary["test_acc_median"] == 0.8 and summary["compile_s_first"] == 3.0
    assert summary["run_s_median"] == 11.0
    slower = {**summary, "epoch_s_median": 4.0}
    table = reference.table({"mlp": {"jaxd2l": summary, "d2l PyTorch": slower}})
    assert "| mlp | jaxd2l | 0.8000 [0.8000, 0.8000] | 0.5000 | 1.000 | 11.00 | 1.0x |" in table
    assert (
        "| mlp | d2l PyTorch | 0.8000 [0.8000, 0.8000] | 0.5000 | 4.000 | 11.00 | 4.0x |" in table
    )
    assert "s/epoch" in reference.brief(summary)
    said = startup.brief({"run_s": 2.6, "floor_s": 0.65, "ratio": 4.0})
    assert "2.60 s" in said and "4.0x" in said


def test_notes_say_when_images_are_random_or_devices_share_cores():
    cpu4 = {"platform": "cpu", "device_count": 4}
    assert suite.notes(cpu4, {"note": None})[0].startswith("4 CPU devices share")
    assert suite.notes({"platform": "gpu", "device_count": 1}, {"note": "random"}) == ["random"]
