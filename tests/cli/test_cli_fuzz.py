"""The command line by class, over every experiment and tool: an output that cannot be
written (a file where a folder must be, a folder that cannot be made), a data folder that
is not there, and numbers spelled as people spell them (Unicode digits, units, huge
counts) each end in one line and an exit code, before anything trains: never a traceback,
a signal or memory that grows."""

import dataclasses
import importlib
import pathlib
import typing

import pytest

from jaxd2l.cli.flags import DataFlags, TrainingFlags, flag_name
from jaxd2l.cli.main import run_cli

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[2] / "experiments"
NUMBERS = ["１０", "10k", "1e400", "10" * 30, "0x10", "٣", "nan", "1 000"]


def _configs():
    for path in sorted(EXPERIMENTS.glob("*.py")):
        if "class Config" in path.read_text():
            module = importlib.import_module(f"experiments.{path.stem}")
            yield path.stem, module


def _one_line(capsys, call, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        call(*args)
    said = capsys.readouterr()
    err = said.err.strip()
    assert "Traceback" not in said.err + said.out, err
    assert err.count("\n") == 0 and "error" in err, err
    return e.value.code, err


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


def test_every_experiment_refuses_an_output_it_cannot_write_in_one_line(
    capsys, a_file, tmp_path, monkeypatch
):
    # No data anywhere (as on the lent GPU): --out is checked before any data is looked for.
    for variable in ("JAXD2L_FASHION_MNIST_DIR", "JAXD2L_HOUSE_PRICES_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / "no-data-here"))
    refused = []
    for name, module in _configs():
        for out in (a_file, a_file / "below"):
            code, err = _one_line(capsys, run_cli, module.main, module.Config, ["--out", str(out)])
            assert code == 1 and "cannot write to --out" in err, (name, err)
        refused.append(name)
    assert len(refused) >= 17


def test_every_training_experiment_refuses_a_checkpoint_folder_it_cannot_write(
    capsys, a_file, tmp_path
):
    seen = 0
    for name, module in _configs():
        if not issubclass(module.Config, TrainingFlags):
            continue
        argv = ["--out", str(tmp_path / name), "--checkpoint-dir", str(a_file / "ckpt")]
        code, err = _one_line(capsys, run_cli, module.main, module.Config, argv)
        assert code in (1, 2) and "--checkpoint-dir" in err, (name, err)
        seen += 1
    assert seen >= 6


def test_every_data_experiment_names_a_data_folder_that_is_not_there(capsys, tmp_path):
    seen = 0
    for name, module in _configs():
        if not any(f.name == "data_dir" for f in dataclasses.fields(module.Config)):
            continue
        argv = ["--out", str(tmp_path / name), "--data-dir", str(tmp_path / "nowhere")]
        code, err = _one_line(capsys, run_cli, module.main, module.Config, argv)
        assert code in (1, 2) and "nowhere" in err, (name, err)
        seen += 1
    assert seen >= 8 and issubclass(DataFlags, object)


def test_every_count_of_every_experiment_refuses_numbers_spelled_wrong(capsys):
    walked = 0
    for name, module in _configs():
        hints = typing.get_type_hints(module.Config)
        for field in dataclasses.fields(module.Config):
            kinds = set(typing.get_args(hints[field.name])) | {hints[field.name]}
            if not kinds & {int, tuple[int, ...]}:
                continue
            for text in NUMBERS:
                argv = [flag_name(field.name), text]
                code, err = _one_line(capsys, run_cli, module.main, module.Config, argv)
                assert code == 2 and flag_name(field.name) in err, (name, text, err)
            walked += 1
    assert walked > 40


def test_every_tool_refuses_an_output_it_cannot_write_in_one_line(capsys, a_file):
    from jaxd2l.tools import accel_check
    from jaxd2l.tools.bundle.__main__ import main as bundle
    from jaxd2l.tools.results.__main__ import run as results

    below = str(a_file / "below")
    _, err = _one_line(capsys, accel_check.main, ["--out", below])
    assert "cannot write to --out" in err
    for argv in (["make", "--out", below], ["install", str(a_file), "--target", below]):
        code = bundle(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.count("\n") == 0 and "Traceback" not in err, err
    assert results(["page", below]) == 1
    assert "cannot write to" in capsys.readouterr().err
    assert results(["make", "nope"]) == 1 and "error: unknown result" in capsys.readouterr().err


DIVERGING = [  # an experiment run where its loss explodes, and the flag the line must name
    ("linear_regression", ["--lr", "100"], "--lr"),
    ("xor", ["--lr", "1000", "--steps", "50"], "--lr"),
    ("weight_decay", ["--lr", "10", "--epochs", "3"], "--lr"),
    ("model_selection", ["--lr", "100", "--epochs", "3", "--overfit-epochs", "3"], "--lr"),
    (
        "house_prices",
        ["--grid-lrs", "1e6,1e7", "--epochs", "2", "--folds", "2", "--batch-size", "16"]
        + ["--data-dir", "{house}"],
        "--grid-lrs",
    ),
    (
        "numerical_stability",
        ["--lr", "1000", "--depth", "2", "--train-width", "8", "--data-dir", "{fm}"],
        "--lr",
    ),
]


# On random labels (nothing to learn) a rate far past divergence blows the loss up; on the
# learnable fake images one step separates them and the loss only falls.
FM = ["--data-dir", "{random labels}", "--epochs", "2", "--batch-size", "50"]
SMALL = ["--val-size", "100", "--num-source", "100", "--target-size", "100"]
DIVERGING += [  # the rest of the class: every experiment with a learning-rate flag
    ("softmax_regression", ["--lr", "1e6", *FM], "--lr"),
    ("mlp", ["--lr", "1e6", *FM], "--lr"),
    ("dropout", ["--lr", "1e6", *FM], "--lr"),
    ("early_stopping", ["--lr", "1e6", "--noise", "0", "--val-size", "100", *FM], "--lr"),
    ("distribution_shift", ["--lr", "1e6", *FM, *SMALL], "--lr"),
]
DIVERGING.append(  # its batch sizes are a flag of their own
    ("hparam_search", ["--method", "grid", "--lrs", "1e6,1e7", "--hidden", "8", "--val-size",
     "100", "--batch-sizes", "50", *FM[:4]], "--lrs")
)  # fmt: skip
NOT_TRAINING = {"benchmark", "reference_pytorch"}  # timings, and PyTorch's own baseline


def test_the_divergence_class_lists_every_experiment_with_a_learning_rate_flag():
    import dataclasses
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "experiments"
    with_lr = set()
    for path in root.glob("*.py"):
        if path.stem.startswith("reference_pytorch"):  # PyTorch's, not ours (no torch here)
            continue
        module = importlib.import_module(f"experiments.{path.stem}")
        config = getattr(module, "Config", None)
        if config is not None and dataclasses.is_dataclass(config):
            names = {f.name for f in dataclasses.fields(config)}
            if names & {"lr", "lrs", "grid_lrs"}:
                with_lr.add(path.stem)
    assert with_lr - NOT_TRAINING == {name for name, _, _ in DIVERGING}


@pytest.mark.slow
def test_no_diverged_computation_exits_0(capsys, tmp_path, fake_house_prices, fake_fashion_mnist):
    import os

    import numpy as np

    from tests.conftest import write_fake_fashion_mnist, write_idx

    random_labels = str(tmp_path / "random_labels")
    write_fake_fashion_mnist(random_labels)
    labels = np.random.default_rng(1).integers(0, 10, 300).astype(np.uint8)
    write_idx(os.path.join(random_labels, "train-labels-idx1-ubyte.gz"), labels)
    data = {"{house}": fake_house_prices, "{fm}": fake_fashion_mnist[0]}  # generated, never real
    data["{random labels}"] = random_labels
    for name, argv, flag in DIVERGING:
        argv = [data.get(a, a) for a in argv]
        module = importlib.import_module(f"experiments.{name}")
        out = ["--out", str(tmp_path / name)]
        code, err = _one_line(capsys, run_cli, module.main, module.Config, out + argv)
        assert code == 1 and "diverged" in err and flag in err, (name, err)
