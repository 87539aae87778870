"""Small helpers several test modules share."""

import jax
import numpy as np

from jaxd2l import loop, train
from jaxd2l.epoch import make_epoch
from jaxd2l.losses import cross_entropy
from jaxd2l.metrics import classification_metrics
from jaxd2l.models import softmax
from jaxd2l.optim import sgd


def classifier_fit(X, y, *, test=None, evaluate=None, epochs=1, key=None, prepare=None):
    """Softmax regression on (X, y) through fit, batches of 8."""
    params = softmax.init(jax.random.key(0), int(np.prod(X.shape[1:])), 10)
    tx = sgd(0.1)
    step = train.make_train_step(softmax.apply, cross_entropy, tx, classification_metrics)
    run_epoch = make_epoch(step, 8, prepare=prepare)
    key = jax.random.key(1) if key is None else key
    return loop.fit(
        train.init_state(params, tx), run_epoch, (X, y), key, epochs, evaluate=evaluate, test=test
    )


def images(n=32):
    """n random float images [n, 4, 4, 1] in [0, 1)."""
    return np.random.default_rng(0).random((n, 4, 4, 1), dtype=np.float32)
