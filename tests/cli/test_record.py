import importlib

import pytest

from jaxd2l.cli import run_cli

EXPERIMENTS = (
    "linear_regression",
    "fashion_mnist",
    "softmax_regression",
    "losses",
    "perceptron",
    "xor",
    "activations",
    "mlp",
    "hparam_search",
    "benchmark",
)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_an_unusable_out_folder_is_one_line_and_exit_1(name, tmp_path, capsys):
    module = importlib.import_module(f"experiments.{name}")
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    for out in (a_file, a_file / "sub", "/proc/jaxd2l-cannot-write"):
        with pytest.raises(SystemExit) as e:
            run_cli(module.main, module.Config, ["--out", str(out)])
        assert e.value.code == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"cannot write to --out {out}" in err[0]
    assert a_file.read_text() == "keep me"


def test_write_csv_writes_a_table_atomically(tmp_path):
    import csv

    from jaxd2l.cli import write_csv

    rows = [{"lr": 0.1, "acc": 0.8}, {"lr": 0.3, "acc": 0.85}]
    write_csv(rows, str(tmp_path / "t.csv"))
    with open(tmp_path / "t.csv") as fh:
        back = list(csv.DictReader(fh))
    assert back == [{"lr": "0.1", "acc": "0.8"}, {"lr": "0.3", "acc": "0.85"}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
