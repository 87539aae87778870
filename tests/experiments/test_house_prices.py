"""experiments.house_prices: a smoke run on generated CSVs, both final modes."""

import csv

import pytest

from experiments import house_prices as exp
from jaxd2l.cli import run_cli


@pytest.mark.slow
@pytest.mark.parametrize("final", ["ensemble", "retrain"])
def test_smoke_run_writes_a_submission(final, fake_house_prices, tmp_path):
    config = exp.Config(
        data_dir=fake_house_prices,
        folds=3,
        epochs=3,
        batch_size=16,
        grid_lrs=(0.01,),
        grid_weight_decays=(0.0,),
        hidden=(8,),
        final=final,
        out=str(tmp_path),
    )
    result = exp.main(config)
    assert result["status"] == "done" and len(result["final"]["book_folds"]) == 3
    with open(tmp_path / "submission.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 40 and all(float(r["SalePrice"]) > 0 for r in rows)
    for name in ("folds.png", "grid.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_checkpoints_are_refused_for_the_ensemble(capsys):
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, ["--checkpoint-dir", "/tmp/x"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "--checkpoint-dir acts on training" in err
    assert len(err.splitlines()) == 1
