"""experiments.perceptron: within Novikoff's bound on separable data, stuck on XOR."""

from experiments import perceptron as exp


def test_smoke_run_within_the_bound_and_not_on_xor(tmp_path):
    p = exp.main(exp.Config(out=str(tmp_path)))["final"]
    assert p["separable"]["within_bound"] and p["separable"]["accuracy"] == 1.0
    assert not p["xor"]["converged"] and p["xor"]["accuracy"] <= 0.75
