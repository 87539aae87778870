import numpy as np
import pytest

from experiments import losses as losses_exp


@pytest.mark.slow
def test_losses_experiment(tmp_path):
    result = losses_exp.main(losses_exp.Config(out=str(tmp_path)))
    d = result["final"]["derivatives"]
    np.testing.assert_allclose(d["squared"], [-2.0, -0.5, 0.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(d["L1"], [-1, -1, 1, 1])
    np.testing.assert_allclose(d["Huber (delta=1)"], [-1.0, -0.5, 0.5, 1.0], rtol=1e-6)
    assert (tmp_path / "losses.png").stat().st_size > 0
    stability = result["final"]["softmax_stability"]
    assert stability["stable_label2"] == {"loss": 2e4, "loss_finite": True, "grad_finite": True}
    assert not stability["naive_label0"]["loss_finite"]
    assert not stability["naive_label2"]["grad_finite"]
