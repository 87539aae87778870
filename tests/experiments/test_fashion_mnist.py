import json

from experiments import fashion_mnist as exp


def test_smoke_run_reports_counts_and_grid(fake_fashion_mnist, tmp_path):
    folder, arrays = fake_fashion_mnist
    result = exp.main(exp.Config(data_dir=folder, out=str(tmp_path), batch_size=64))
    final = result["final"]
    assert final["train_examples"] == 300 and final["test_examples"] == 100
    assert final["label_counts"]["train"] == [30] * 10
    assert abs(final["train_pixel_mean"] - arrays["train"][0].mean() / 255) < 1e-5
    assert final["image_shape"] == [28, 28, 1]
    assert final["read_seconds"] > 0 and final["load_seconds"] > 0
    assert (tmp_path / "examples.png").stat().st_size > 0
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "done"


def test_resize_flag(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    result = exp.main(exp.Config(data_dir=folder, out=str(tmp_path), resize=32))
    assert result["final"]["image_shape"] == [32, 32, 1]


def test_missing_data_fails_fast_and_marks_the_run(no_local_data, tmp_path, monkeypatch, capsys):
    import pytest

    from jaxd2l.cli import run_cli

    monkeypatch.setenv("JAXD2L_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, ["--out", str(tmp_path)])
    assert e.value.code == 1
    assert "apt-get install -y dataset-fashion-mnist" in capsys.readouterr().err
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "failed" and "DataNotFoundError" in saved["error"]


def test_corrupt_file_exits_1_naming_it(tmp_path, monkeypatch, capsys):
    import pytest

    from jaxd2l.cli import run_cli
    from tests.conftest import write_fake_fashion_mnist

    folder = tmp_path / "idx"
    write_fake_fashion_mnist(str(folder), 20, 10)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-8])
    monkeypatch.setenv("JAXD2L_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as e:
        run_cli(exp.main, exp.Config, ["--data-dir", str(folder), "--out", str(tmp_path / "o")])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "train-labels-idx1-ubyte.gz" in err[-1] and "corrupt or truncated" in err[-1]
