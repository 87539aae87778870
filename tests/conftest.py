import os

import jax
import numpy as np
import pytest

from jaxd2l.data import fashion_mnist_source as source
from jaxd2l.data.idx import write_idx


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
