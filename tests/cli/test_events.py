"""TensorBoard event files beside metrics.json: read back with TensorBoard's own reader,
they hold the numbers of the record; a search's trials are one hparams table."""

import json
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from jaxd2l.cli.events import tag_of


def _scalars(folder) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(folder))
    events.Reload()
    return {t: [(e.step, e.value) for e in events.Scalars(t)] for t in events.Tags()["scalars"]}


def test_tags_put_the_split_first():
    assert tag_of("train_loss") == "train/loss" and tag_of("test_acc") == "test/acc"
    assert tag_of("seconds") == "time/epoch_s" and tag_of("eval_seconds") == "time/eval_s"


@pytest.mark.parametrize("name", ["softmax_regression", "xor"])
def test_every_run_writes_the_numbers_of_its_record_as_events(name, tmp_path, fake_fashion_mnist):
    module = __import__(f"experiments.{name}", fromlist=["main"])
    data = {"data_dir": fake_fashion_mnist[0], "epochs": 2}  # never the real data: a unit test
    argv = {"softmax_regression": data, "xor": {"steps": 50}}[name]
    module.main(module.Config(out=str(tmp_path), **argv))
    record = json.loads((tmp_path / "metrics.json").read_text())
    scalars = _scalars(tmp_path)
    for epoch in record["history"]:
        for key, value in epoch.items():
            if key != "epoch" and isinstance(value, float):
                assert (epoch["epoch"], pytest.approx(value, rel=1e-6)) in scalars[tag_of(key)]
    finals = {k: v for k, v in record["final"].items() if isinstance(v, float)}
    assert finals, record["final"]
    for key, value in finals.items():
        assert scalars[f"final/{key}"] == [(0, pytest.approx(value, rel=1e-6))]


def test_a_search_writes_its_trials_as_an_hparams_table(tmp_path):
    from jaxd2l.cli.flags import ExperimentConfig
    from jaxd2l.cli.record import Run

    rows = [
        {"lr": 0.1, "hidden": 64, "batch_size": 256, "val_acc": 0.8, "val_loss": 0.5},
        {"lr": 0.3, "hidden": 256, "batch_size": 256, "val_acc": 0.7, "val_loss": float("nan")},
    ]
    with Run("search", ExperimentConfig(out=str(tmp_path))) as run:
        run.hparams(rows, ("lr", "hidden", "batch_size"), ("val_acc", "val_loss"))
        run.finish({"best_val_acc": 0.8}, "done")
    for i, row in enumerate(rows):
        trial = _scalars(tmp_path / "hparams" / f"{i:04d}")
        assert trial["val_acc"] == [(0, pytest.approx(row["val_acc"]))]
        assert ("val_loss" in trial) == (i == 0)  # a NaN is left out, not written
        events = EventAccumulator(str(tmp_path / "hparams" / f"{i:04d}"))
        events.Reload()
        assert events.PluginTagToContent("hparams")  # the plugin's session for this trial


@pytest.mark.slow
def test_tensorboard_reads_the_runs_offline(tmp_path, fake_fashion_mnist):
    from experiments import softmax_regression

    config = softmax_regression.Config(
        out=str(tmp_path / "softmax"), epochs=1, data_dir=fake_fashion_mnist[0]
    )
    softmax_regression.main(config)
    said = subprocess.run(
        [sys.executable, "-m", "tensorboard.main", "--inspect", "--logdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert said.returncode == 0 and "train/loss" in said.stdout + said.stderr
