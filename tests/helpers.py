"""Small helpers several test modules share."""

import jax
import numpy as np

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.models import softmax
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd


def classifier_fit(X, y, *, test=None, evaluate=None, epochs=1, key=None, prepare=None):
    """Softmax regression on (X, y) through fit, batches of 8."""
    params = softmax.init(jax.random.key(0), int(np.prod(X.shape[1:])), 10)
    tx = sgd(0.1)
    step = make_train_step(softmax.apply, cross_entropy, tx, classification_metrics)
    run_epoch = make_epoch(step, 8, prepare=prepare)
    key = jax.random.key(1) if key is None else key
    return fit(init_state(params, tx, key), run_epoch, (X, y), epochs, evaluate=evaluate, test=test)


def images(n=32):
    """n random float images [n, 4, 4, 1] in [0, 1)."""
    return np.random.default_rng(0).random((n, 4, 4, 1), dtype=np.float32)


def assert_trees_equal(a, b, **tolerance):
    """Two pytrees leaf by leaf (PRNG keys through their data); exact unless `rtol`/`atol`."""

    def raw(x):
        return jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x

    for x, z in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        if tolerance:
            np.testing.assert_allclose(raw(x), raw(z), **tolerance)
        else:
            np.testing.assert_array_equal(raw(x), raw(z))
