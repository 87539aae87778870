"""experiments.dropout: one epoch with and without dropout; bad rates are one line."""

import json

import pytest

from experiments import dropout as exp
from jaxd2l.cli import run_cli


@pytest.mark.slow
@pytest.mark.parametrize("impl", ["scratch", "concise", "nnx"])
def test_one_epoch_smoke_run(impl, fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        impl=impl,
        hidden=(32, 32),
        epochs=1,
        batch_size=64,
        lr=0.1,
        data_dir=folder,
        out=str(tmp_path),
    )
    result = exp.main(config)
    assert result["status"] == "done" and len(result["history"]) == 1
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert "without_dropout" in saved and saved["dropout_epoch_ratio"] > 0
    for name in ("curves.png", "compare.png", "predictions.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize(
    "argv", [["--dropout", "0.2,1.5"], ["--dropout", "-0.1"], ["--dropout", "0.1,0.1,0.1"]]
)
def test_bad_rates_are_one_line_naming_the_flag(argv, capsys):
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, argv)
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "--dropout" in err and len(err.splitlines()) == 1
