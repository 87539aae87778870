from experiments import activations as act_exp
from experiments import perceptron as perc_exp
from experiments import xor as xor_exp


def test_experiments_perceptron_xor_activations(tmp_path):
    p = perc_exp.main(perc_exp.Config(out=str(tmp_path / "p")))["final"]
    assert p["separable"]["within_bound"] and p["separable"]["accuracy"] == 1.0
    assert not p["xor"]["converged"] and p["xor"]["accuracy"] <= 0.75
    x = xor_exp.main(xor_exp.Config(out=str(tmp_path / "x")))["final"]
    assert x["accuracy"] == 1.0
    assert (tmp_path / "x" / "xor.png").exists()
    a = act_exp.main(act_exp.Config(out=str(tmp_path / "a")))["final"]
    assert max(a["max_derivative_error"].values()) < 1e-5
    assert (tmp_path / "a" / "activations.png").exists()
