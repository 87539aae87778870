"""jaxd2l.chapters.house_prices:
log-RMSE against its formula, K folds as one program equal to folds run
alone, the ensemble is the mean of its members, a valid submission."""

import csv

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.chapters.house_prices import (
    ensemble_log,
    kfold,
    log_rmse,
    make_house_run,
    make_model,
    predict_log,
    search,
    to_log_price,
    write_submission,
)
from jaxd2l.data import house_prices as hp
from jaxd2l.data.folds import fold_weights


def test_log_rmse_and_the_clamp_at_one():
    pred, truth = jnp.asarray([np.log(100.0), np.log(200.0)]), jnp.log(jnp.asarray([100.0, 400.0]))
    assert float(log_rmse(pred, truth)) == pytest.approx(np.sqrt(np.log(2) ** 2 / 2))
    assert float(to_log_price(jnp.asarray([-5.0]), "price")[0]) == 0.0  # log(1)
    assert float(log_rmse(pred, truth, jnp.asarray([1.0, 0.0]))) == pytest.approx(0.0)


def setup(folder, name="linear"):
    data, _ = hp.load(folder)
    X, y = jnp.asarray(data.X_train), jnp.asarray(data.y_train)
    model = make_model(name, X.shape[1], (8,), (0.5,))
    return data, X, y, model, make_house_run(model, target="log", epochs=30, batch_size=8)


def test_folds_in_one_program_equal_folds_alone_and_learn(fake_house_prices):
    _, X, y, model, run = setup(fake_house_prices)
    params, curves = kfold(jax.random.key(0), run, X, y, num_folds=3, lr=0.3, weight_decay=0.0)
    weights = fold_weights(len(y), 3)
    for k in range(3):
        alone, c = jax.jit(run)(jax.random.key(0), 0.3, 0.0, weights[k], X, y)
        np.testing.assert_allclose(alone["w"], params["w"][k], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c["val"], curves["val"][k], rtol=1e-5, atol=1e-6)
    assert float(curves["val"][:, -1].mean()) < 0.2  # the log price is linear in features


def test_the_ensemble_is_the_mean_of_its_members_own_predictions(fake_house_prices):
    data, X, y, model, run = setup(fake_house_prices, "mlp")
    params, _ = kfold(jax.random.key(0), run, X, y, num_folds=3, lr=0.01, weight_decay=0.0)
    X_test = jnp.asarray(data.X_test)
    members = [
        predict_log(model, jax.tree.map(lambda p, k=k: p[k], params), X_test, "log")
        for k in range(3)
    ]
    assert not np.allclose(members[0], members[1])  # three different models
    np.testing.assert_allclose(
        ensemble_log(model, params, X_test, "log"), np.mean(members, axis=0), rtol=1e-6
    )


@pytest.mark.slow
def test_grid_search_and_the_submission(fake_house_prices, tmp_path):
    data, X, y, _, _ = setup(fake_house_prices)
    grid, best = search(
        jax.random.key(0),
        X,
        y,
        num_folds=3,
        lrs=(0.01, 0.1),
        weight_decays=(0.0, 1.0),
        hidden=(8,),
        dropout=(),
        epochs=5,
        batch_size=8,
    )
    assert set(grid) == {"linear", "mlp"} and grid["linear"].shape == (2, 2)
    assert best["val"] == pytest.approx(min(float(g.min()) for g in grid.values()))
    path = str(tmp_path / "submission.csv")
    write_submission(data.test_ids, np.full(len(data.test_ids), 1e5), path)
    with open(path) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Id", "SalePrice"] and len(rows) == 41
    with pytest.raises(ValueError, match="positive price"):
        write_submission(data.test_ids, np.zeros(len(data.test_ids)), path)


def test_a_diverged_cell_never_wins_the_grid_and_is_named(monkeypatch):
    from jaxd2l.chapters import house_prices as house

    def fake_grid(key, run, X, log_price, *, num_folds, lrs, weight_decays):
        values = np.full((len(lrs), len(weight_decays), num_folds), 0.5, np.float32)
        values[0, 0] = np.nan  # the cell argmin would pick first
        values[1, 1] = 0.2
        return values, np.isnan(values).any(axis=-1)

    monkeypatch.setattr(house, "grid_values", fake_grid)
    X, y = jnp.ones((10, 3)), jnp.ones(10)
    settings = dict(num_folds=2, lrs=(0.1, 0.01), weight_decays=(0.0, 1.0), hidden=(4,), dropout=())
    grid, best = house.search(jax.random.key(0), X, y, epochs=1, **settings)
    assert best["lr"] == 0.01 and best["weight_decay"] == 1.0 and best["val"] == pytest.approx(0.2)
    assert "linear lr 0.1 weight decay 0" in best["diverged"]
    curves = {"train": np.full((2, 3), 0.1), "val": np.array([[0.2] * 3, [0.2, 0.2, np.nan]])}
    curves.update(loss=np.array([[1.0, 0.5, 0.4], [1.0, 500.0, 0.4]]), untrained=np.ones(2))
    assert house.diverged_folds(curves) == {"fold 1": False, "fold 2": True}  # rule, and NaN
