"""jaxd2l.search.loop: the search loop over groups of trials, alone and resumed after a stop."""

import jax
import numpy as np
import pytest

from jaxd2l.core.checkpoint import Checkpointer
from jaxd2l.core.history import DivergedError
from jaxd2l.core.keys import run_keys
from jaxd2l.search.loop import run_search
from jaxd2l.search.trials import grid, validation_split


def data(fake_fashion_mnist):
    _, arrays = fake_fashion_mnist
    X, y = arrays["train"]
    return validation_split(jax.random.key(0), X, y, 60)


def test_a_search_selects_on_validation_and_reports_each_group(fake_fashion_mnist):
    train, val = data(fake_fashion_mnist)
    trials = grid((0.05, 0.3), (0, 16), (64,))
    seen = []
    result = run_search(
        trials,
        train,
        val,
        epochs=1,
        keys=run_keys(0),
        on_group=lambda rows, out: seen.append((len(rows), len(out["val_acc"]))),
    )
    assert seen == [(2, 2), (4, 2)] and len(result.rows) == 4
    assert result.best["val_acc"] == max(r["val_acc"] for r in result.rows)
    assert set(result.groups) == {(0, 64), (16, 64)}
    sizes = [leaf.shape for leaf in jax.tree.leaves(result.best_params)]
    assert sizes[0][0] == (16 if result.best["hidden"] else 784)


def test_a_stopped_search_resumes_to_the_same_rows(fake_fashion_mnist, tmp_path):
    train, val = data(fake_fashion_mnist)
    trials = grid((0.05, 0.3), (0, 16), (64,))
    whole = run_search(trials, train, val, epochs=1, keys=run_keys(0))

    def stop(rows, out):
        raise KeyboardInterrupt

    flags = {"search": "test"}
    with Checkpointer(str(tmp_path), flags=flags) as ckpt:
        with pytest.raises(KeyboardInterrupt):
            run_search(
                trials, train, val, epochs=1, keys=run_keys(0), checkpoint=ckpt, on_group=stop
            )
    groups_run = []
    with Checkpointer(str(tmp_path), flags=flags, resume=True) as ckpt:
        resumed = run_search(
            trials,
            train,
            val,
            epochs=1,
            keys=run_keys(0),
            checkpoint=ckpt,
            on_group=lambda rows, out: groups_run.append(len(rows)),
        )
    assert groups_run == [4]  # only the second group trained again
    assert [r["val_acc"] for r in resumed.rows] == pytest.approx(
        [r["val_acc"] for r in whole.rows], abs=1e-6
    )
    assert resumed.best == whole.best
    for a, b in zip(*map(jax.tree.leaves, (resumed.best_params, whole.best_params)), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_search_where_every_trial_diverged_raises(fake_fashion_mnist):
    train, val = data(fake_fashion_mnist)
    with pytest.raises(DivergedError, match="every trial diverged"):
        run_search(grid((1e30,), (8,), (64,)), train, val, epochs=2, keys=run_keys(0))
