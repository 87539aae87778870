"""Run by tests/test_parallel.py in a process with 4 CPU devices (JAX_PLATFORMS=cpu,
JAX_NUM_CPU_DEVICES=4): the same training on 1 device and on 4, printed as JSON for the test
to compare."""

import json
import sys

import jax
import numpy as np

from jaxd2l.chapters.classification import scratch_loss, train_classifier
from jaxd2l.core.parallel import data_parallel
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import mlp, softmax
from jaxd2l.nn.optim import sgd
from jaxd2l.search.trials import TrialParallel, grid, train_group, validation_split

MODELS = {
    "softmax": lambda: softmax.model(),
    "mlp": lambda: mlp.model((784, 64, 10)),
    "dropout": lambda: mlp.model((784, 64, 32, 10), scheme="he", dropout=(0.2, 0.5)),
}


def classifier(model, train, test, parallel):
    model = MODELS[model]()
    result = train_classifier(
        model,
        sgd(0.1),
        scratch_loss(),
        train,
        test,
        epochs=3,
        batch_size=64,
        key=jax.random.key(1),
        parallel=parallel,
    )
    return jax.device_get(result.params), result.history


def main(folder):
    assert jax.device_count() == 4, jax.devices()
    train, test = fm.load_train_test(data_dir=folder)
    report = {}
    for model in MODELS:
        one, h1 = classifier(model, train, test, None)
        four, h4 = classifier(model, train, test, data_parallel(4))
        diff = max(
            float(np.abs(a - b).max())
            for a, b in zip(*map(jax.tree.leaves, (one, four)), strict=True)
        )
        report[model] = {
            "max_param_diff": diff,
            "test_acc": [float(h1["test_acc"][-1]), float(h4["test_acc"][-1])],
        }
    trials = grid([0.03, 0.1, 0.3], [32], [64])  # 3 trials padded to 4 devices
    X, y = train
    tr, val = validation_split(jax.random.key(2), X, y, 100)
    runs = [
        train_group(trials, tr, val, epochs=2, key=jax.random.key(3), parallel=p)
        for p in (None, TrialParallel(data_parallel(4).mesh))
    ]
    report["hparam"] = {
        "val_acc": [r["val_acc"] for r in runs],
        "winner": [int(np.argmax(r["val_acc"])) for r in runs],
    }
    try:
        data_parallel(4).check_batch_size(30)
    except ValueError as e:
        report["batch_error"] = str(e)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
