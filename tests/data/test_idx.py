import gzip

import numpy as np
import pytest

from jaxd2l.checks.errors import IdxFormatError
from jaxd2l.data import idx


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(tmp_path, compress):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 9], np.uint8)
    idx.write_idx(tmp_path / "i", images, compress)
    idx.write_idx(tmp_path / "l", labels, compress)
    np.testing.assert_array_equal(idx.read_images(tmp_path / "i", (28, 28))[..., 0], images)
    got = idx.read_labels(tmp_path / "l", 10)
    assert got.dtype == np.int32 and got.tolist() == [3, 9]


def test_wrong_magic_names_the_file(tmp_path):
    idx.write_idx(tmp_path / "labels.gz", np.zeros(5, np.uint8))
    with pytest.raises(IdxFormatError, match=r"labels\.gz: magic number 0x00000801"):
        idx.read_images(tmp_path / "labels.gz")
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(IdxFormatError, match="text: magic number"):
        idx.read_labels(tmp_path / "text")


def test_truncated_gzip_names_the_file(tmp_path):
    idx.write_idx(tmp_path / "images.gz", np.ones((10, 28, 28), np.uint8) * 7)
    raw = (tmp_path / "images.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IdxFormatError, match=r"cut\.gz: corrupt or truncated gzip"):
        idx.read_images(tmp_path / "cut.gz")


def test_truncated_and_overlong_data(tmp_path):
    idx.write_idx(tmp_path / "images", np.ones((4, 28, 28), np.uint8), compress=False)
    raw = (tmp_path / "images").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-10])
    with pytest.raises(IdxFormatError, match="short: truncated"):
        idx.read_images(tmp_path / "short")
    (tmp_path / "long.gz").write_bytes(gzip.compress(raw + b"xx"))
    with pytest.raises(IdxFormatError, match="2 bytes after"):
        idx.read_images(tmp_path / "long.gz")
    (tmp_path / "header").write_bytes(raw[:9])
    with pytest.raises(IdxFormatError, match="header"):
        idx.read_images(tmp_path / "header")


def test_dimension_and_label_range_checks(tmp_path):
    idx.write_idx(tmp_path / "i", np.zeros((2, 10, 10), np.uint8))
    with pytest.raises(IdxFormatError, match=r"\(10, 10\), expected \(28, 28\)"):
        idx.read_images(tmp_path / "i", (28, 28))
    idx.write_idx(tmp_path / "l", np.array([1, 12], np.uint8))
    with pytest.raises(IdxFormatError, match="label 12 is out of range for 10 classes"):
        idx.read_labels(tmp_path / "l", 10)
