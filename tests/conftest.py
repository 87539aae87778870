import os

# The tests compare numbers with float32 tolerances. On GPUs and TPUs JAX's default matmul
# precision is lower (TF32 or bf16 passes, about 1e-3 relative), so the suite asks for full
# float32 everywhere, subprocesses included (on a CPU this changes nothing).
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
# On a GPU each JAX process takes 75% of the card's memory when it starts; with several
# pytest-xdist workers (and the experiments' subprocesses) the second one could not start
# its backend and its collection differed. Every process of the suite allocates as it goes.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
# Tests use small data they generate, never the real Fashion-MNIST or house prices (the
# lent GPU has neither: two tests that read them unasked failed there). The data variables
# point at a folder that is not there, so a test that forgets its data_dir fails on every
# machine; the docs build, which executes the chapters on the real data, gets the real
# environment back (`REAL_DATA_ENV`).
DATA_VARIABLES = ("JAXD2L_FASHION_MNIST_DIR", "JAXD2L_HOUSE_PRICES_DIR")
NO_DATA = "/nonexistent/jaxd2l-tests-generate-their-data"
REAL_DATA_ENV = {v: os.environ[v] for v in DATA_VARIABLES if os.environ.get(v, NO_DATA) != NO_DATA}
for _variable in DATA_VARIABLES:
    os.environ[_variable] = NO_DATA

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from jaxd2l.data import fashion_mnist_source as source  # noqa: E402
from jaxd2l.data.idx import write_idx  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")

# Most of the suite's time is XLA compiling small programs. A persistent compilation cache
# (JAX's own, keyed by the program and the compiler's flags) makes every later run of the
# suite skip them; JAXD2L_TEST_JAX_CACHE="" turns it off, CI starts with it empty.
_CACHE = os.environ.get(
    "JAXD2L_TEST_JAX_CACHE", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "jax")
)
if _CACHE:
    jax.config.update("jax_compilation_cache_dir", os.path.abspath(_CACHE))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@pytest.fixture
def key():
    return jax.random.key(0)


def write_fake_fashion_mnist(folder, num_train=300, num_test=100, seed=0):
    """Four small IDX files in the Fashion-MNIST layout; images carry their class as a
    brightness pattern so a classifier can learn them. Returns the arrays written."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for split, n in (("train", num_train), ("test", num_test)):
        labels = np.arange(n) % 10
        rng.shuffle(labels)
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for c in range(10):  # class c lights up rows 2c..2c+3
            images[labels == c, 2 * c + 2 : 2 * c + 6, 4:24] += 180
        prefix = "t10k" if split == "test" else "train"
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), images)
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labels)
        arrays[split] = (images[..., None], labels.astype(np.int32))
    return arrays


@pytest.fixture(scope="session")
def fake_fashion_mnist(tmp_path_factory):
    """(folder, arrays) of a small generated Fashion-MNIST; the jaxd2l cache goes to a temp
    folder for the whole session so the tfds preparation happens once."""
    folder = str(tmp_path_factory.mktemp("fashion_mnist_idx"))
    arrays = write_fake_fashion_mnist(folder)
    cache = str(tmp_path_factory.mktemp("jaxd2l_cache"))
    previous = os.environ.get("JAXD2L_CACHE_DIR")
    os.environ["JAXD2L_CACHE_DIR"] = cache
    yield folder, arrays
    if previous is None:
        os.environ.pop("JAXD2L_CACHE_DIR", None)
    else:
        os.environ["JAXD2L_CACHE_DIR"] = previous


@pytest.fixture
def no_local_data(monkeypatch, tmp_path):
    """No Debian copy, no env folder, and a download URL that refuses at once."""
    monkeypatch.setattr(source, "DEBIAN_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.delenv(source.ENV_DIR, raising=False)
    monkeypatch.setenv(source.ENV_URL, "http://127.0.0.1:9")


def write_fake_house_prices(folder, num_train=60, num_test=40, seed=0):
    """train.csv and test.csv in the competition's layout (Id first, SalePrice last and only
    in train, the numeric columns jaxd2l checks, a categorical column with missing values);
    log prices are linear in the features, so a linear model fits them."""
    import pandas as pd

    from jaxd2l.data.house_prices import REQUIRED

    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    n = num_train + num_test
    frame = pd.DataFrame({"Id": np.arange(1, n + 1)})
    for name in REQUIRED[1:]:
        frame[name] = rng.integers(1, 10, n).astype(float)
    frame.loc[rng.random(n) < 0.1, "LotArea"] = np.nan  # missing numbers
    zones = np.array(["RL", "RM", "FV"], dtype=object)[rng.integers(0, 3, n)]
    zones[rng.random(n) < 0.1] = None  # missing categories
    frame["MSZoning"] = zones
    log_price = 11.5 + 0.1 * frame["OverallQual"] + 0.05 * frame["GarageCars"]
    frame["SalePrice"] = np.exp(log_price + 0.01 * rng.normal(size=n)).round()
    frame.iloc[:num_train].to_csv(os.path.join(folder, "train.csv"), index=False)
    frame.iloc[num_train:].drop(columns="SalePrice").to_csv(
        os.path.join(folder, "test.csv"), index=False
    )
    return folder


@pytest.fixture
def fake_house_prices(tmp_path):
    return write_fake_house_prices(str(tmp_path / "house"))
