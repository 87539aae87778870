"""experiments.activations: autodiff derivatives against their closed forms."""

from experiments import activations as exp


def test_smoke_run_matches_the_closed_forms(tmp_path):
    a = exp.main(exp.Config(out=str(tmp_path)))["final"]
    assert max(a["max_derivative_error"].values()) < 1e-5
    assert (tmp_path / "activations.png").stat().st_size > 0
