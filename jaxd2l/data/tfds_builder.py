"""A TensorFlow-free tfds builder for Fashion-MNIST (imported only when data is prepared).

Same name, version, split names, label names and example counts as tfds' own
`fashion_mnist`, but images are stored as raw uint8 tensors (`Encoding.BYTES`; PNG
encoding would need TensorFlow) in the `array_record` format, read back through tfds'
data-source API. Examples keep the IDX file order (shuffling disabled), so the first
training image is the first image of the original file, as in d2l.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow_datasets as tfds

from jaxd2l.data import idx
from jaxd2l.data.fashion_mnist_source import FILES, TFDS_LABELS, local_files, verified_files


class FashionMnist(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """d2l 3.5: Fashion-MNIST, from local IDX files or downloaded from the official URLs."""

    name = "fashion_mnist"
    VERSION = tfds.core.Version("3.0.1")
    RELEASE_NOTES = {"3.0.1": "jaxd2l: TF-free, raw uint8 tensors, file order kept."}

    def __init__(self, *, source_dir: str | None = None, base_url: str | None = None, **kwargs):
        self._source_dir = source_dir
        self._base_url = base_url
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description="Fashion-MNIST: 70,000 28x28 grey images of 10 kinds of clothing.",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(
                        shape=(28, 28, 1), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES
                    ),
                    "label": tfds.features.ClassLabel(names=TFDS_LABELS),
                }
            ),
            supervised_keys=("image", "label"),
            disable_shuffling=True,
            homepage="https://github.com/zalandoresearch/fashion-mnist",
        )

    def _split_generators(self, dl_manager):
        if self._source_dir is not None:
            paths = local_files(self._source_dir)  # .gz files or their decompressed twins
        else:
            urls = {name: f"{self._base_url}/{file}" for name, file in FILES.items()}
            paths = {name: os.fspath(path) for name, path in dl_manager.download(urls).items()}
        paths = verified_files(paths, official=self._source_dir is None)
        return {
            "train": self._generate_examples(paths["train_images"], paths["train_labels"]),
            "test": self._generate_examples(paths["test_images"], paths["test_labels"]),
        }

    def _generate_examples(self, images_path: str, labels_path: str):
        images = idx.read_images(images_path, (28, 28))
        labels = idx.read_labels(labels_path, len(TFDS_LABELS))
        if len(images) != len(labels):
            raise idx.IdxFormatError(
                f"{images_path} holds {len(images)} images but {labels_path} holds "
                f"{len(labels)} labels"
            )
        for i in range(len(images)):
            yield i, {"image": images[i], "label": int(labels[i])}
