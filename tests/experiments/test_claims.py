import json

import pytest

from experiments import claims as claims_exp
from jaxd2l.cli.flags import FlagError
from jaxd2l.cli.parse import parse_config


def test_quick_run_writes_the_report(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = claims_exp.Config(
        claim=("sum_vs_mean", "logistic"), quick=True, data_dir=folder, out=str(tmp_path)
    )
    result = claims_exp.main(config)
    assert set(result["final"]["verdicts"]) == {"sum_vs_mean", "logistic"}
    record = json.loads((tmp_path / "claims.json").read_text())
    assert [c["number"] for c in record["claims"]] == [2, 7]
    assert record["seeds"] == {"sum_vs_mean": 2, "logistic": 2} and record["quick"]
    # a smoke run says so in every output: the printed line, claims.md, the record
    assert result["summary"].startswith("SMOKE RUN") and result["final"]["quick"]
    assert (
        (tmp_path / "claims.md")
        .read_text()
        .startswith("# The course note's claims, tested\n\n**SMOKE RUN")
    )
    assert len(record["plan"]["sha256"]) == 64
    first = record["claims"][0]["measured"]
    assert all({"mean", "low", "high", "seeds"} <= set(v) for v in first.values())
    text = (tmp_path / "claims.md").read_text()
    assert "| 2 |" in text and "| 7 |" in text and "Rule (written before the run)" in text
    assert (tmp_path / "claim02_sum_vs_mean.png").exists()
    assert (tmp_path / "claim07_logistic.png").exists()
    # each estimate keeps its per-seed values, and each claim's seeds are a TensorBoard table
    assert all(len(v["values"]) == v["seeds"] for v in first.values())
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    seed = EventAccumulator(str(tmp_path / "hparams" / "logistic" / "0001"))
    seed.Reload()
    assert seed.Tags()["scalars"] and seed.PluginTagToContent("hparams")


def test_flags_name_the_claims_and_need_two_seeds():
    config = parse_config(claims_exp.Config, ["--claim", "remainder,tuning", "--seeds", "3"])
    assert config.claim == ("remainder", "tuning") and config.seeds == 3
    with pytest.raises((FlagError, SystemExit)):
        parse_config(claims_exp.Config, ["--claim", "nonsense"])
    with pytest.raises((FlagError, SystemExit)):
        parse_config(claims_exp.Config, ["--seeds", "1"])
