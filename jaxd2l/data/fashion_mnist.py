"""d2l 3.5: the Fashion-MNIST data set through tfds, cached as arrays, resident on the device.

    images, labels = load_fashion_mnist("train")       # uint8 [60000, 28, 28, 1], int32 [60000]
    X, y = load_fashion_mnist("test", on_device=True)  # jax arrays on the default device

The first load prepares the tfds data set (TF-free, `array_record`) from the local IDX files
or the official download and reads it back through tfds' data-source API (seconds); the
arrays are then cached in one .npz keyed by the source's content, so later loads take a
fraction of a second and a changed source is prepared anew.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError, IdxFormatError
from jaxd2l.data import cache
from jaxd2l.data import fashion_mnist_source as source

LABELS = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
SPLITS = ("train", "test")


def text_labels(labels: Sequence[int] | np.ndarray) -> list[str]:
    """d2l's get_fashion_mnist_labels: class ids 0-9 to names."""
    ids = np.asarray(labels).ravel()
    if ids.dtype.kind not in "biuf":
        raise ArgumentError(f"labels must be integer class ids in 0-9, got {labels!r}")
    if ids.size and (
        not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= len(LABELS)
    ):
        raise ArgumentError(
            f"labels must be integer class ids in 0-{len(LABELS) - 1}, got dtype {ids.dtype} "
            f"with values in [{ids.min()}, {ids.max()}]"
        )
    return [LABELS[int(i)] for i in ids]


def read_with_tfds(source_dir: str | None, tfds_dir: str) -> dict[str, tuple[np.ndarray, ...]]:
    """Prepare the tfds builder into `tfds_dir` (once) and read both splits back."""
    import tensorflow_datasets as tfds

    from jaxd2l.data.tfds_builder import FashionMnist

    if source_dir is None:
        source.check_reachable(source.base_url())
    builder = FashionMnist(
        source_dir=source_dir,
        base_url=source.base_url(),
        data_dir=tfds_dir,
        file_format="array_record",
    )
    # tfds' progress bars redraw one terminal line with \r: an error printed after them
    # would be buried, so preparing (seconds, once) shows one line of our own instead.
    print("preparing Fashion-MNIST with tfds (once; later loads read the cache)", flush=True)
    from tensorflow_datasets.core.utils import tqdm_utils

    was_active = tqdm_utils._active
    tfds.display_progress_bar(False)
    try:
        builder.download_and_prepare(
            file_format="array_record",
            download_config=tfds.download.DownloadConfig(try_download_gcs=False),
        )
    finally:
        tfds.display_progress_bar(was_active)
    splits = {}
    for split, data in builder.as_data_source().items():
        examples = data.__getitems__(range(len(data)))
        images = np.stack([e["image"] for e in examples]).astype(np.uint8)
        splits[split] = (images, np.asarray([e["label"] for e in examples], np.int32))
    return splits


def load_all(data_dir: str | None = None, cache_dir: str | None = None):
    """Both splits as numpy arrays: {"train": (images, labels), "test": (...)}.

    In a multi-process run process 0 prepares the cache first and the others read it
    after, so processes sharing a machine never prepare the same tfds folder at once."""
    if jax.process_count() == 1:
        return _load_all(data_dir, cache_dir)
    from jax.experimental import multihost_utils

    splits = _load_all(data_dir, cache_dir) if jax.process_index() == 0 else None
    multihost_utils.sync_global_devices("jaxd2l: Fashion-MNIST prepared")
    return splits if splits is not None else _load_all(data_dir, cache_dir)


def _load_all(data_dir: str | None, cache_dir: str | None):
    source_dir = source.find_source(data_dir)
    key = source.fingerprint(source_dir)
    home = cache.cache_home(cache_dir)
    path = os.path.join(home, "fashion_mnist", f"arrays-{key}.npz")
    splits = cache.load_arrays(path, SPLITS)
    if splits is None:
        splits = read_with_tfds(source_dir, os.path.join(home, "tfds", key))
        cache.save_arrays(path, splits)
    return splits


def resize_images(images: np.ndarray | jax.Array, size: int | tuple[int, int]) -> jax.Array:
    """d2l's `resize` option: bilinear resize with jax.image, rounded back to uint8 [N, h, w, 1]
    (as torchvision's Resize on the PIL image does before ToTensor)."""
    h, w = (size, size) if isinstance(size, int) else size
    if h < 1 or w < 1:
        raise ArgumentError(f"resize must be positive, got {size}")

    def one(image):
        out = jax.image.resize(image.astype(jnp.float32), (h, w, image.shape[-1]), "linear")
        return jnp.clip(jnp.round(out), 0, 255).astype(jnp.uint8)

    return jax.jit(lambda x: jax.lax.map(one, x, batch_size=1024))(jnp.asarray(images))


def _resize_and_place(split, images, labels, resize, on_device, device):
    if images.shape[1:] != (28, 28, 1) or len(images) != len(labels):
        raise IdxFormatError(f"cached {split} split has shape {images.shape}: delete the cache")
    if resize is not None:
        images = resize_images(images, resize)
        images = images if on_device else np.asarray(images)
    if on_device or device is not None:
        return jax.device_put(images, device), jax.device_put(labels, device)
    return images, labels


def load_fashion_mnist(
    split: str = "train",
    *,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    resize: int | tuple[int, int] | None = None,
    on_device: bool = False,
    device: jax.Device | None = None,
):
    """One split: images uint8 [N, 28, 28, 1] (or resized) and labels int32 [N].

    numpy arrays by default; jax arrays on `device` (default device) with `on_device`.
    """
    if split not in SPLITS:
        raise ArgumentError(f"split must be one of {SPLITS}, got {split!r}")
    images, labels = load_all(data_dir, cache_dir)[split]
    return _resize_and_place(split, images, labels, resize, on_device, device)


def load_train_test(
    *,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    resize: int | tuple[int, int] | None = None,
    on_device: bool = False,
    device: jax.Device | None = None,
):
    """Both splits from one read: ((train_images, train_labels), (test_images, test_labels))."""
    splits = load_all(data_dir, cache_dir)
    return tuple(_resize_and_place(s, *splits[s], resize, on_device, device) for s in SPLITS)


def scale_images(images: jax.Array) -> jax.Array:
    """uint8 pixels to float32 in [0, 1] (torchvision's ToTensor): the `prepare` of training.

    Only uint8 is taken: float images are already scaled (scaling twice divides by 255^2)."""
    dtype = getattr(images, "dtype", None)
    if dtype != jnp.uint8:
        raise ArgumentTypeError(
            f"scale_images takes uint8 pixels in 0-255, got dtype {dtype}: float images are "
            "already scaled, so leave out prepare=scale_images (or pass the uint8 images)"
        )
    return images.astype(jnp.float32) / 255.0
