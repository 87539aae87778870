"""The models a benchmark times, each the chapters' own code: linear regression on synthetic
data, softmax regression, the MLP 784-256-10 and a deeper MLP on Fashion-MNIST."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxd2l.chapters import flops
from jaxd2l.checks.errors import DataNotFoundError
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.step import make_train_step
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.data.synthetic import TRUE_B, TRUE_W, synthetic_regression
from jaxd2l.models import linear, mlp
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy, squared_loss
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]  # layer widths, input ... output

    @property
    def classifier(self) -> bool:
        return self.sizes[-1] > 1

    def init(self, key: jax.Array) -> Any:
        return mlp.init(key, self.sizes) if self.classifier else linear.init(key, self.sizes[0])

    @property
    def apply(self) -> Callable:
        return mlp.apply if self.classifier else linear.apply

    @property
    def loss(self) -> Callable:
        return cross_entropy if self.classifier else squared_loss

    @property
    def metrics(self):
        return classification_metrics if self.classifier else None

    @property
    def prepare(self):
        return fm.scale_images if self.classifier else None

    def hand_cost(self, batch_size: int) -> tuple[float, float]:
        """(FLOPs, bytes) of one step by hand (`jaxd2l.chapters.flops`)."""
        input_bytes = 1 if self.classifier else 4
        return (
            flops.dense_step_flops(self.sizes, batch_size)["total"],
            flops.dense_step_bytes(self.sizes, batch_size, input_bytes),
        )

    def step(self, tx=None, apply: Callable | None = None):
        tx = tx or sgd(0.1)
        apply = apply or self.apply
        return tx, make_train_step(apply, self.loss, tx, self.metrics)

    def epoch(self, batch_size: int, tx=None, apply=None, parallel=None, vmapped=False):
        tx, step = self.step(tx, apply)
        if vmapped:
            step = jax.vmap(step, in_axes=(0, None))
        run_epoch = make_epoch(step, batch_size, prepare=self.prepare, parallel=parallel)
        return tx, run_epoch

    def evaluate(self, apply=None, parallel=None):
        return make_evaluate(
            apply or self.apply, self.loss, self.metrics, prepare=self.prepare, parallel=parallel
        )


WORKLOADS = {
    "linear": Workload("linear", (2, 1)),
    "softmax": Workload("softmax", (784, 10)),
    "mlp": Workload("mlp", (784, 256, 10)),
    "deep_mlp": Workload("deep_mlp", (784, 256, 128, 64, 10)),
}


def load_data(data_dir: str | None) -> dict[str, Any]:
    """{"fashion": (train, test), "regression": (train, None), "note": ...}: the real
    Fashion-MNIST when it can be had, else random uint8 images of its shape (timings stay
    meaningful, accuracies do not: the note says so). A `data_dir` given but not holding
    the data is an error (DataNotFoundError), never replaced by random images."""
    note = None
    try:
        train_split, test_split = fm.load_train_test(data_dir=data_dir)
    except DataNotFoundError as e:
        if data_dir is not None:  # a folder the user named: refused, never replaced
            raise
        rng = np.random.default_rng(0)
        train_split = (
            rng.integers(0, 256, (60000, 28, 28, 1), np.uint8),
            rng.integers(0, 10, 60000).astype(np.int32),
        )
        test_split = (
            rng.integers(0, 256, (10000, 28, 28, 1), np.uint8),
            rng.integers(0, 10, 10000).astype(np.int32),
        )
        note = f"Fashion-MNIST not found ({e}): random images of its shape, accuracies meaningless"
    regression = synthetic_regression(jax.random.key(0), TRUE_W, TRUE_B, len(train_split[1]))
    return {"fashion": (train_split, test_split), "regression": (regression, None), "note": note}


def data_for(workload: Workload, data: dict[str, Any]):
    return data["fashion"] if workload.classifier else data["regression"]
