"""jaxd2l.search.bayes:
Optuna's ask/tell in rounds of vmapped groups, and a killed study resumed."""

import jax
import numpy as np
import pytest

from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.history import DivergedError
from jaxd2l.core.keys import run_keys
from jaxd2l.search import bayes
from jaxd2l.search.trials import validation_split


def data(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    X, y = arrays["train"]
    return validation_split(jax.random.key(0), X, y, 60)


SPACE = dict(lr_range=(0.01, 1.0), hiddens=(0, 16), batch_sizes=(64,))


def search(train, val, study, **kw):
    return bayes.run_bayes_search(
        study,
        bayes.search_space(**SPACE),
        train,
        val,
        num_trials=6,
        round_size=3,
        epochs=1,
        keys=run_keys(0),
        seed=0,
        **kw,
    )


@pytest.mark.slow
def test_rounds_ask_train_and_tell_every_trial(fake_fashion_mnist):
    train, val = data(fake_fashion_mnist)
    seen = []
    study = bayes.open_study(None)
    result = search(train, val, study, on_round=lambda rows: seen.append(len(rows)))
    assert seen == [3, 6]
    assert [r["number"] for r in result.rows] == list(range(6))
    assert [r["round"] for r in result.rows] == [0, 0, 0, 1, 1, 1]
    told = study.get_trials()
    assert [t.value for t in told] == pytest.approx([r["val_acc"] for r in result.rows])
    assert result.best["val_acc"] == max(r["val_acc"] for r in result.rows)
    for r, t in zip(result.rows, told, strict=True):
        assert 0.01 <= r["lr"] <= 1.0 and r["lr"] == pytest.approx(t.params["lr"])
        assert r["hidden"] in (0, 16) and r["batch_size"] == 64
    first = jax.tree.leaves(result.best_params)[0]
    assert first.shape[0] == (16 if result.best["hidden"] else 784)


@pytest.mark.slow
def test_a_killed_study_resumes_and_asks_the_same_trials(fake_fashion_mnist, tmp_path):
    train, val = data(fake_fashion_mnist)
    whole = search(train, val, bayes.open_study(None))

    def stop(rows):
        raise KeyboardInterrupt

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    flags = {"search": "bayes"}
    with Checkpointer(str(tmp_path / "ckpt"), flags=flags) as ckpt:
        with pytest.raises(KeyboardInterrupt):
            search(train, val, bayes.open_study(storage), checkpoint=ckpt, on_round=stop)
    rounds_run = []
    with Checkpointer(str(tmp_path / "ckpt"), flags=flags, resume=True) as ckpt:
        resumed = search(
            train,
            val,
            bayes.open_study(storage),
            checkpoint=ckpt,
            on_round=lambda rows: rounds_run.append(len(rows)),
        )
    assert rounds_run == [6]  # only the second round trained
    for a, b in zip(resumed.rows, whole.rows, strict=True):
        assert a["lr"] == pytest.approx(b["lr"]) and a["hidden"] == b["hidden"]
        assert a["val_acc"] == pytest.approx(b["val_acc"], abs=1e-6)
    assert len(bayes.open_study(storage).get_trials()) == 6
    for a, b in zip(*map(jax.tree.leaves, (resumed.best_params, whole.best_params)), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_diverged_trial_is_told_as_failed_and_never_wins(fake_fashion_mnist):
    train, val = data(fake_fashion_mnist)
    study = bayes.open_study(None)
    with pytest.raises(DivergedError, match="every trial diverged"):
        bayes.run_bayes_search(
            study,
            bayes.search_space((1e6, 1e8), (0,), (64,)),
            train,
            val,
            num_trials=2,
            round_size=2,
            epochs=1,
            keys=run_keys(0),
            seed=0,
        )
    states = {t.state.name for t in study.get_trials()}
    assert states == {"FAIL"}


def test_bad_arguments_name_the_problem():
    with pytest.raises(ArgumentError, match="unknown sampler 'cmaes'"):
        bayes.make_sampler("cmaes", 0, 0, 4)
    with pytest.raises(ArgumentError, match="LOW < HIGH"):
        bayes.search_space((1.0, 0.1), (16,), (64,))
