"""d2l's host-side data loaders for Fashion-MNIST (DataLoader, load_data_fashion_mnist): plain
Python iterators of numpy batches, for teaching and debugging. Training itself reads the
arrays on the device (`fashion_mnist.load_train_test` and `make_epoch`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core import batching
from jaxd2l.data.fashion_mnist import load_train_test


def host_batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    seed: int | None = 0,
    drop_remainder: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """d2l's data_iter: yield (X, y) numpy batches in a shuffled order (seed None: in order).

    The last batch is smaller unless `drop_remainder`.
    """
    n = len(X)
    if len(y) != n:
        raise ArgumentError(f"X has {n} examples but y has {len(y)}")
    nb = batching.num_batches(n, batch_size, drop_remainder)
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    for i in range(nb):
        idx = order[i * batch_size : (i + 1) * batch_size]
        yield X[idx], y[idx]


class HostLoader:
    """A re-iterable host loader like d2l's DataLoader: float32 [B, H, W, 1] in [0, 1], int32 [B].

    Each pass draws a new order (seed + pass number) when shuffling; the last batch is
    smaller unless `drop_remainder`.
    """

    def __init__(
        self,
        images,
        labels,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        drop_remainder: bool = False,
    ):
        batching.check_batch_size(len(images), batch_size, drop_remainder)
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.drop_remainder = drop_remainder
        self.passes = 0

    def __len__(self) -> int:
        return batching.num_batches(len(self.images), self.batch_size, self.drop_remainder)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        seed = self.seed + self.passes if self.shuffle else None
        self.passes += 1
        for X, y in host_batches(
            self.images, self.labels, self.batch_size, seed=seed, drop_remainder=self.drop_remainder
        ):
            yield X.astype(np.float32) / 255.0, y


def load_data_fashion_mnist(
    batch_size: int, resize: int | None = None, *, data_dir: str | None = None, seed: int = 0
) -> tuple[HostLoader, HostLoader]:
    """d2l's load_data_fashion_mnist: (train_iter, test_iter) host loaders, train shuffled."""
    train, test = load_train_test(data_dir=data_dir, resize=resize)
    return (
        HostLoader(*train, batch_size, shuffle=True, seed=seed),
        HostLoader(*test, batch_size, shuffle=False),
    )
