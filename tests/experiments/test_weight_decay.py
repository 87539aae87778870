"""experiments.weight_decay: lambda 0 overfits, lambda 3 shrinks w; the sweep in one program."""

import json

import pytest

from experiments import weight_decay as exp
from jaxd2l.cli import run_cli


@pytest.mark.parametrize("impl", ["scratch", pytest.param("concise", marks=pytest.mark.slow)])
def test_smoke_run_shrinks_the_weights(impl, tmp_path):
    final = exp.main(exp.Config(impl=impl, sweep=(0.1, 10.0), out=str(tmp_path)))["final"]
    assert final["fits"]["0"]["w_norm"] > 10 > 1 > final["fits"]["3"]["w_norm"]
    assert final["fits"]["3"]["test"] < final["fits"]["0"]["test"]
    assert len(final["sweep"]["w_norm"]) == 2
    assert (tmp_path / "fits.png").stat().st_size > 0 and (tmp_path / "sweep.png").exists()


def test_a_negative_lambda_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, ["--lambdas", "0,-3"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "--lambdas must be >= 0" in err and len(err.splitlines()) == 1


def test_a_diverged_strength_is_named_and_exits_1(tmp_path, capsys):
    from jaxd2l.cli import run_cli

    argv = ["--lambdas", "0,1000", "--epochs", "5", "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, argv)
    assert e.value.code == 1
    assert "(lambda 1000)" in capsys.readouterr().err
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "diverged" and saved["final"]["diverged"] == ["lambda 1000"]
