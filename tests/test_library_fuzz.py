"""The library's public functions with drawn wrong inputs (kinds, shapes, ranges), as the
CLI fuzz does for flags: every call returns sensible numbers or raises the library's own
error (a ValueError or TypeError subclass of `UserError`) that names the argument."""

import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxd2l as d2l
from jaxd2l.checks.errors import UserError
from jaxd2l.models import mlp, softmax
from jaxd2l.nn import losses, regularization
from jaxd2l.search import trials

pytestmark = pytest.mark.slow

WRONG = {
    "integer": [0, -1, 2.5, "8", True, None, math.nan, 10**30],
    "rate": [0.0, -0.1, math.nan, math.inf, "0.1", None, True],
    "fraction": [-0.1, 1.5, math.nan, "0.5", None],
    "key": [0, 1.5, "key", None, np.zeros(3), jax.random.split(jax.random.key(0), 2)],
    "sizes": [(), (784,), (0, 10), (784, -1), "784,10", (784.0, 10), None],
    "labels": [np.array([-1, 3]), np.array([10, 0]), np.array([0.5, 1.0]), np.zeros((2, 2))],
    "pair": [(1.0, 0.0), (0.0, 1.0), (math.nan, 1.0), (1.0,), "0.01,1", None],
}
X4 = jnp.ones((4, 3))


def fit_with(name, value):
    tx = d2l.sgd(0.1)
    epoch = d2l.make_epoch(d2l.make_train_step(softmax.apply, losses.cross_entropy, tx), 2)
    args = {"train": (X4, jnp.zeros(4, jnp.int32)), "key": jax.random.key(0), "epochs": 1}
    args[name] = value
    state = d2l.init_state(softmax.init(jax.random.key(0), 3, 2), tx, args["key"])
    return d2l.fit(state, epoch, args["train"], args["epochs"])


CASES = [
    ("batch_size", "integer", lambda v: d2l.make_epoch(lambda s, b: (s, {}), v)),
    ("learning_rate", "rate", d2l.sgd),
    ("seed", "key", lambda v: d2l.run_keys(v) if not isinstance(v, int) else None),
    ("sizes", "sizes", lambda v: mlp.model(v)),
    ("p", "fraction", lambda v: regularization.dropout(X4, v, jax.random.key(0))),
    ("key", "key", lambda v: regularization.dropout(X4, 0.5, v)),
    ("lambd", "rate", lambda v: regularization.l2_penalty(v) if v != 0.0 else None),
    ("num_folds", "integer", lambda v: d2l.kfold_weights(10, v)),
    (
        "val_size",
        "integer",
        lambda v: trials.validation_split(jax.random.key(0), X4, jnp.arange(4), v),
    ),
    ("lr_range", "pair", lambda v: trials.random_trials(jax.random.key(0), 2, v, (8,), (4,))),
    ("labels", "labels", lambda v: d2l.data.fashion_mnist.text_labels(v)),
    ("y", "labels", lambda v: losses.cross_entropy(jnp.zeros((2, 10)), jnp.asarray(v))),
    ("epochs", "integer", lambda v: fit_with("epochs", v)),
    ("key", "key", lambda v: fit_with("key", v)),
    ("num_inputs", "integer", lambda v: softmax.init(jax.random.key(0), v, 10)),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_wrong_inputs_get_the_librarys_own_error_naming_the_argument(data):
    argument, kind, call = data.draw(st.sampled_from(CASES))
    value = data.draw(st.sampled_from(WRONG[kind]))
    try:
        out = call(value)
    except UserError as e:
        assert isinstance(e, ValueError | TypeError)
        said = str(e).replace("`", "")
        assert argument in said or argument.replace("_", " ") in said, (argument, value, said)
        return
    # accepted: then what came back must be usable numbers, never NaN passed on silently
    for leaf in jax.tree.leaves(out):
        if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating):
            assert bool(jnp.all(jnp.isfinite(leaf))), (argument, value)


def test_params_jax_cannot_read_are_named():
    with pytest.raises(TypeError, match="params must be a pytree of arrays"):
        regularization.decay_mask(types.SimpleNamespace(W=jnp.ones((2, 2))))
