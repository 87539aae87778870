import json

import pytest

from experiments import hparam_search as exp
from jaxd2l.cli import run_cli
from jaxd2l.core.history import DivergedError


@pytest.mark.slow
@pytest.mark.parametrize("method", ["grid", "random"])
def test_smoke_run(method, fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        method=method,
        trials=3,
        lrs=(0.1, 0.3),
        hidden=(16,),
        batch_sizes=(32,),
        epochs=1,
        val_size=60,
        data_dir=folder,
        out=str(tmp_path),
    )
    result = exp.main(config)
    final = result["final"]
    assert len(final["trials"]) == (2 if method == "grid" else 3)
    assert final["best"]["val_acc"] == max(t["val_acc"] for t in final["trials"])
    assert 0 <= final["best_test_acc"] <= 1 and final["vmap_speed"]["ratio"] > 0
    assert (tmp_path / "trials.csv").read_text().startswith("lr,hidden,batch_size,val_acc")
    assert (tmp_path / "trials.png").exists()


def test_bad_validation_size_names_the_argument_and_then_the_flag(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    with pytest.raises(ValueError, match="val_size must be in"):
        exp.main(exp.Config(val_size=10**6, data_dir=folder, out=str(tmp_path)))
    argv = ["--val-size", str(10**6), "--data-dir", folder, "--out", str(tmp_path)]
    with pytest.raises(SystemExit):
        run_cli(exp.main, exp.Config, argv)


@pytest.mark.slow
def test_a_search_where_every_trial_diverged_says_so(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        lrs=(1e30,),
        hidden=(8,),
        epochs=2,
        val_size=50,
        batch_sizes=(64,),
        data_dir=folder,
        out=str(tmp_path),
    )
    with pytest.raises(
        DivergedError, match=r"every trial diverged \(1 of 1.*\(`lrs` or `lr_range`\)"
    ):
        exp.main(config)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "diverged"
    assert (tmp_path / "trials.csv").read_text().count("\n") == 2  # header + the trial


@pytest.mark.slow
def test_bayes_runs_in_rounds_and_resumes_its_study(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    flags = dict(
        method="bayes",
        trials=4,
        round_size=2,
        hidden=(8, 16),
        batch_sizes=(32,),
        epochs=1,
        val_size=60,
        data_dir=folder,
        out=str(tmp_path),
        checkpoint_dir=str(tmp_path / "ck"),
    )
    final = exp.main(exp.Config(**flags))["final"]
    assert [t["round"] for t in final["trials"]] == [0, 0, 1, 1]
    assert (tmp_path / "ck" / "study.db").exists()
    assert (tmp_path / "trials.csv").read_text().startswith("number,round,lr,hidden")
    again = exp.main(exp.Config(**flags, resume=True))["final"]  # every round done
    assert again["trials"] == final["trials"] and again["best"] == final["best"]


@pytest.mark.slow
def test_compare_draws_the_three_strategies_on_one_budget(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        method="compare",
        trials=4,
        round_size=2,
        seeds=2,
        hidden=(8, 16),
        batch_sizes=(32,),
        epochs=1,
        val_size=60,
        data_dir=folder,
        out=str(tmp_path),
    )
    final = exp.main(config)["final"]
    assert set(final) == {"grid", "random", "bayes"}
    for strategy in final.values():
        assert len(strategy["curves"]) == 2 and all(len(c) == 4 for c in strategy["curves"])
        assert all(c == sorted(c) for c in strategy["curves"])  # best so far never falls
    assert (tmp_path / "strategies.png").exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (dict(method="bayes", sampler="cmaes"), "--sampler"),
        (dict(method="bayes", round_size=0), "--round-size"),
        (dict(method="compare", resume=True, checkpoint_dir="x"), "--checkpoint-dir acts on"),
        (dict(method="compare", trials=1), "--trials must be at least"),
    ],
)
def test_bad_search_flags_name_the_flag(flags, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        exp.Config(out=str(tmp_path), **flags)
