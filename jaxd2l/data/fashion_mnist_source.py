"""Where Fashion-MNIST comes from: a local folder of IDX files, or the official URLs.

Order of precedence: an explicit folder (`--data-dir`), the JAXD2L_FASHION_MNIST_DIR
environment variable, Debian's `dataset-fashion-mnist` package, then a download. The
download is verified on the decompressed bytes: Debian's .gz files hold the official
content under other gzip headers, so hashes of the .gz files themselves would differ.
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.parse

from jaxd2l.checks.errors import DataNotFoundError, IdxFormatError
from jaxd2l.data import idx

ENV_DIR = "JAXD2L_FASHION_MNIST_DIR"
ENV_URL = "JAXD2L_FASHION_MNIST_URL"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
OFFICIAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
# sha256 of the decompressed official files (checked equal to Debian's content).
SHA256 = {
    "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
TFDS_LABELS = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

HOW_TO_GET = (
    "install Debian's copy (`apt-get update && apt-get install -y dataset-fashion-mnist`, "
    f"which fills {DEBIAN_DIR}), or pass data_dir / set {ENV_DIR} to a folder with the "
    f"four IDX files ({', '.join(FILES.values())}), or connect to the internet so tfds "
    "can download them"
)


def _file_in(folder: str, name: str) -> str | None:
    """The .gz file, or its decompressed twin (name without .gz), when present."""
    for candidate in (name, name.removesuffix(".gz")):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def local_files(folder: str) -> dict[str, str] | None:
    """The four files in `folder`, or None when any is missing."""
    paths = {key: _file_in(folder, name) for key, name in FILES.items()}
    return None if None in paths.values() else paths


def find_source(data_dir: str | None = None) -> str | None:
    """The folder to read, or None to download. An explicit folder must be complete."""
    for folder, origin in ((data_dir, "data_dir"), (os.environ.get(ENV_DIR), ENV_DIR)):
        if folder:
            if local_files(folder) is None:
                missing = [n for n in FILES.values() if _file_in(folder, n) is None]
                raise DataNotFoundError(
                    f"{origin} {folder} lacks {', '.join(missing)}: point it at a folder with "
                    f"the four Fashion-MNIST IDX files, or {HOW_TO_GET}"
                )
            return folder
    return DEBIAN_DIR if local_files(DEBIAN_DIR) is not None else None


def base_url() -> str:
    return os.environ.get(ENV_URL, OFFICIAL_URL).rstrip("/")


def check_reachable(url: str, timeout: float = 3.0) -> None:
    """Fail in seconds when the download host can't be reached (tfds retries for minutes)."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as e:
        raise DataNotFoundError(
            f"Fashion-MNIST is not on this machine and {parts.hostname} can't be reached "
            f"({e}). To get it: {HOW_TO_GET}"
        ) from None


def sha256_of_content(path: str) -> str:
    return hashlib.sha256(idx.read_bytes(path)).hexdigest()


def verified_files(paths: dict[str, str], official: bool) -> dict[str, str]:
    """Check downloaded files against the official content hashes (local files are checked
    for structure when read)."""
    if official:
        for key, path in paths.items():
            digest = sha256_of_content(path)
            if digest != SHA256[key]:
                raise IdxFormatError(
                    f"{path}: downloaded content has sha256 {digest}, expected {SHA256[key]}: "
                    "a corrupt or different file; delete it and download again"
                )
    return paths


def fingerprint(source_dir: str | None) -> str:
    """Identifies the data's content: a hash of the local files, or of the official hashes."""
    h = hashlib.sha256()
    if source_dir is None:
        h.update("".join(SHA256[k] for k in sorted(SHA256)).encode())
    else:
        for key, path in sorted(local_files(source_dir).items()):
            with open(path, "rb") as fh:
                h.update(key.encode() + hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:16]
