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


@pytest.mark.parametrize("name", ["hparam_search", "house_prices", "mlp", "xor"])
def test_every_path_a_run_writes_later_is_checked_before_it_starts(name, tmp_path, capsys):
    # issue 39: `hparam_search --out D` with D/hparams a file ended in a NotADirectoryError
    # traceback when the TensorBoard writer reached it, after training
    from jaxd2l.cli.record import planned_outputs

    module = importlib.import_module(f"experiments.{name}")
    planned, folders = planned_outputs(name)
    assert "metrics.json" in planned and "hparams" in folders
    for wrong, said in (("hparams", "hparams is a file"), (sorted(planned)[0], "is a folder")):
        out = tmp_path / f"{name}-{said[:6]}"
        out.mkdir()
        if said.endswith("file"):
            (out / wrong).write_text("not a folder")
        else:
            (out / wrong).mkdir()
        with pytest.raises(SystemExit) as e:
            run_cli(module.main, module.Config, ["--out", str(out)])
        err = capsys.readouterr().err.strip().splitlines()
        assert e.value.code == 1 and len(err) == 1 and said in err[0] and "--out" in err[0]
        assert sorted(p.name for p in out.iterdir()) == [wrong]  # nothing written
