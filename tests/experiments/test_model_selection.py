"""experiments.model_selection: the book's three fits, the degree sweep and K-fold CV."""

import pytest

from experiments import model_selection as exp
from jaxd2l.cli import run_cli


@pytest.mark.slow
def test_smoke_run_tells_the_books_story(tmp_path):
    config = exp.Config(epochs=200, overfit_epochs=300, seed=1, out=str(tmp_path))
    final = exp.main(config)["final"]
    fits = final["fits"]
    assert fits["2"]["train"] > 1.0 and fits["2"]["test"] > 1.0  # underfits
    assert fits["4"]["test"] < 0.1
    assert final["cross_validation"]["chosen_degree"] == 4
    assert len(final["sweep"]["test"]) == 20
    for name in ("fits.png", "degrees.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--degrees", "0"], "--degrees"),
        (["--degrees", "21"], "--degrees"),
        (["--folds", "200"], "--folds"),
        (["--folds", "1"], "--folds"),
    ],
)
def test_bad_flags_are_one_line_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, argv)
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and flag in err and len(err.splitlines()) == 1
