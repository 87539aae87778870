import functools
import gzip
import http.server
import os
import shutil
import threading
import time

import jax
import numpy as np
import pytest

from jaxd2l.checks.errors import DataNotFoundError
from jaxd2l.cli import run_cli
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.data import fashion_mnist_source as source
from jaxd2l.data.cache import cache_home
from jaxd2l.data.host_loader import load_data_fashion_mnist
from tests.conftest import write_fake_fashion_mnist


def decompressed_copy(folder, target):
    os.makedirs(target)
    for name in os.listdir(folder):
        with gzip.open(os.path.join(folder, name)) as src:
            with open(os.path.join(target, name.removesuffix(".gz")), "wb") as dst:
                shutil.copyfileobj(src, dst)


def test_second_load_comes_from_the_cache(fake_fashion_mnist, monkeypatch):
    folder, arrays = fake_fashion_mnist
    fm.load_all(folder)

    def no_tfds(*args):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(fm, "read_with_tfds", no_tfds)
    t0 = time.perf_counter()
    images, _ = fm.load_fashion_mnist("train", data_dir=folder)
    assert time.perf_counter() - t0 < 2.0
    np.testing.assert_array_equal(images, arrays["train"][0])


def test_changed_source_or_damaged_cache_is_rebuilt(tmp_path):
    folder, cache = str(tmp_path / "idx"), str(tmp_path / "cache")
    write_fake_fashion_mnist(folder, 30, 10, seed=0)
    first = fm.load_all(folder, cache)["train"][0]
    changed = write_fake_fashion_mnist(folder, 30, 10, seed=1)
    second = fm.load_all(folder, cache)["train"][0]
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(second, changed["train"][0])
    (npz,) = [
        f
        for f in os.listdir(os.path.join(cache, "fashion_mnist"))
        if "-" in f and source.fingerprint(folder) in f
    ]
    with open(os.path.join(cache, "fashion_mnist", npz), "wb") as fh:
        fh.write(b"garbage")
    np.testing.assert_array_equal(fm.load_all(folder, cache)["train"][0], changed["train"][0])


def test_incomplete_folder_names_the_missing_files(tmp_path):
    write_fake_fashion_mnist(str(tmp_path), 10, 10)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        fm.load_fashion_mnist("train", data_dir=str(tmp_path))


def test_no_data_and_no_network_fails_fast(no_local_data, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(DataNotFoundError) as e:
        fm.load_fashion_mnist("train", cache_dir=str(tmp_path))
    assert time.perf_counter() - t0 < 10
    message = str(e.value)
    assert "apt-get install -y dataset-fashion-mnist" in message and "data_dir" in message


def test_download_through_tfds_verifies_content(no_local_data, tmp_path, monkeypatch):
    served = tmp_path / "served"
    arrays = write_fake_fashion_mnist(str(served), 20, 10)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(source.ENV_URL, f"http://127.0.0.1:{server.server_port}")
        # the official hashes reject these files ...
        with pytest.raises(Exception, match="sha256"):
            fm.load_all(cache_dir=str(tmp_path / "cache1"))
        # ... and, told their hashes, the same path accepts them
        hashes = {k: source.sha256_of_content(str(served / f)) for k, f in source.FILES.items()}
        monkeypatch.setattr(source, "SHA256", hashes)
        splits = fm.load_all(cache_dir=str(tmp_path / "cache2"))
    finally:
        server.shutdown()
    np.testing.assert_array_equal(splits["test"][1], arrays["test"][1])


def test_text_labels_and_resize(fake_fashion_mnist):
    assert fm.text_labels([0, 9]) == ["t-shirt", "ankle boot"]
    folder, arrays = fake_fashion_mnist
    images, _ = fm.load_fashion_mnist("test", data_dir=folder, resize=64)
    assert images.shape == (100, 64, 64, 1) and images.dtype == np.uint8
    same = np.asarray(fm.resize_images(arrays["test"][0], 28))
    np.testing.assert_array_equal(same, arrays["test"][0])
    with pytest.raises(ValueError, match="split"):
        fm.load_fashion_mnist("validation", data_dir=folder)


def test_on_device_and_host_loader(fake_fashion_mnist):

    folder, _ = fake_fashion_mnist
    X, y = fm.load_fashion_mnist("train", data_dir=folder, on_device=True)
    assert isinstance(X, jax.Array) and X.shape == (300, 28, 28, 1)
    train_iter, test_iter = load_data_fashion_mnist(64, data_dir=folder)
    assert len(train_iter) == 5
    first = [yb.tolist() for _, yb in train_iter]
    again = [yb.tolist() for _, yb in train_iter]
    assert first != again  # a new order each pass
    Xb, yb = next(iter(test_iter))
    assert Xb.dtype == np.float32 and 0 <= Xb.min() and Xb.max() <= 1 and yb.shape == (64,)


@pytest.mark.slow
@pytest.mark.skipif(source.local_files(source.DEBIAN_DIR) is None, reason="no Debian copy")
def test_real_debian_fashion_mnist():
    splits = fm.load_all(source.DEBIAN_DIR, cache_home())
    (train_images, train_labels), (_, test_labels) = splits["train"], splits["test"]
    assert train_images.shape == (60000, 28, 28, 1) and len(test_labels) == 10000
    assert np.bincount(train_labels).tolist() == [6000] * 10
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert abs(train_images.mean() / 255 - 0.2860406) < 1e-6
    assert train_labels[:3].tolist() == [9, 0, 0]  # the file's order


def test_load_train_test_reads_both_splits(fake_fashion_mnist):
    folder, arrays = fake_fashion_mnist
    (X, y), (Xt, yt) = fm.load_train_test(data_dir=folder)
    np.testing.assert_array_equal(y, arrays["train"][1])
    np.testing.assert_array_equal(Xt, arrays["test"][0])


def test_a_folder_of_decompressed_idx_files_loads(fake_fashion_mnist, tmp_path):
    from jaxd2l.data import fashion_mnist as fm

    folder, arrays = fake_fashion_mnist
    decompressed_copy(folder, tmp_path / "raw")
    (images, labels), _ = fm.load_train_test(data_dir=str(tmp_path / "raw"))
    np.testing.assert_array_equal(images, arrays["train"][0])
    np.testing.assert_array_equal(labels, arrays["train"][1])


def test_a_truncated_decompressed_file_is_one_line_naming_it(
    fake_fashion_mnist, tmp_path, capsys, monkeypatch
):
    from experiments import fashion_mnist

    folder, _ = fake_fashion_mnist
    decompressed_copy(folder, tmp_path / "raw")
    path = tmp_path / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])
    monkeypatch.setenv("JAXD2L_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as e:
        run_cli(
            fashion_mnist.main,
            fashion_mnist.Config,
            ["--data-dir", str(tmp_path / "raw"), "--out", str(tmp_path / "out")],
        )
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "truncated" in err[0]
