"""d2l 3.5: the Fashion-MNIST data set: counts, labels, an image grid, load and read times.

    python -m experiments.fashion_mnist [--out DIR] [--data-dir PATH] [--resize N]
        [--batch-size 256]

Expected: 60000/10000 examples, 6000/1000 per class, train pixel mean 0.2860406, images
28x28x1 (NxNx1 with --resize N); DIR/examples.png shows the first 18 training images with
their labels. read_seconds is one shuffled epoch of batches gathered on the device (d2l
reads one in about 2 s); host_read_seconds is the same epoch through the host iterator.
A second run loads from the cache in well under 2 s.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import plot
from jaxd2l.cli import DataFlags, Run, SeedFlags, flag, run_cli
from jaxd2l.core.batching import epoch_indices
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.data.host_loader import HostLoader


@dataclasses.dataclass(frozen=True)
class Config(DataFlags, SeedFlags):
    resize: int | None = flag(None, "resize images to N x N with jax.image", min=1, max=4096)
    batch_size: int = flag(256, "examples per batch for the read-time figure", min=1, max=2**24)


def make_read_epoch(batch_size: int):
    """One shuffled epoch of batches gathered and scaled on the device; returns a checksum so
    nothing is optimised away."""

    def read_epoch(X, y, key):
        idx, mask = epoch_indices(key, X.shape[0], batch_size)

        def body(total, batch):
            i, m = batch
            return total + jnp.where(
                m[:, None], fm.scale_images(X[i]).reshape(len(i), -1), 0
            ).sum(), None

        return jax.lax.scan(body, jnp.zeros(()), (idx, mask))[0]

    return jax.jit(read_epoch)


def main(config: Config) -> dict:
    with Run("fashion_mnist", config) as run:
        t0 = time.perf_counter()
        train, test = fm.load_train_test(
            data_dir=config.data_dir, resize=config.resize, on_device=True
        )
        jax.block_until_ready((train, test))
        load_seconds = time.perf_counter() - t0

        key = jax.random.key(config.seed)
        read_epoch = make_read_epoch(config.batch_size)
        t0 = time.perf_counter()
        compiled = read_epoch.lower(*train, key).compile()
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*train, key))
        read_seconds = time.perf_counter() - t0
        images, labels = jax.device_get(train)
        t0 = time.perf_counter()
        for _ in HostLoader(images, labels, config.batch_size, shuffle=True):
            pass
        host_read_seconds = time.perf_counter() - t0

        plot.save_image_grid(images[:18], fm.text_labels(labels[:18]), run.file("examples.png"))
        final = {
            "train_examples": int(len(labels)),
            "test_examples": int(len(test[1])),
            "label_counts": {
                "train": np.bincount(labels, minlength=10).tolist(),
                "test": np.bincount(np.asarray(test[1]), minlength=10).tolist(),
            },
            "label_names": list(fm.LABELS),
            "train_pixel_mean": float(jnp.mean(fm.scale_images(train[0]))),
            "image_shape": list(images.shape[1:]),
            "read_seconds": read_seconds,
            "host_read_seconds": host_read_seconds,
            "load_seconds": load_seconds,
        }
        run.record["timing"].update({"compile_s": compile_s, "load_s": load_seconds})
        summary = (
            f"fashion_mnist: {final['train_examples']} train / {final['test_examples']} test, "
            f"images {final['image_shape']}, pixel mean {final['train_pixel_mean']:.7f}, "
            f"load {load_seconds:.2f}s, one epoch read {read_seconds:.3f}s "
            f"(host {host_read_seconds:.2f}s)"
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
