"""Data parallel over 4 forced CPU devices and over 2 processes through the launcher: the
same parameters and metrics as one device; a dead process stops the group quickly."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env(**extra):
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.slow
def test_four_devices_train_to_the_same_parameters_as_one(fake_fashion_mnist):
    folder, _ = fake_fashion_mnist
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "parallel_check.py"), folder],
        cwd=ROOT,
        env=env(JAX_PLATFORMS="cpu", JAX_NUM_CPU_DEVICES="4"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(report)  # the measured differences, for the record (pytest -s)
    assert report["softmax"]["max_param_diff"] <= 1e-5
    assert report["mlp"]["max_param_diff"] <= 1e-3
    # dropout masks are drawn for the global batch from its key: the same units drop on
    # 1 device and on 4 (a different mask would move the params by far more than this)
    assert report["dropout"]["max_param_diff"] <= 1e-3
    for model in ("softmax", "mlp", "dropout"):
        one, four = report[model]["test_acc"]
        assert one == pytest.approx(four, abs=1e-6)
    one, four = report["hparam"]["val_acc"]
    np.testing.assert_allclose(one, four, atol=1e-6)
    assert report["hparam"]["winner"][0] == report["hparam"]["winner"][1]
    assert "use a multiple of 4 such as 28 or 32" in report["batch_error"]
