import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxd2l.models import linear
from jaxd2l.nn.optim import sgd


def test_scratch_sgd_matches_optax_sgd(key):
    params = linear.init(key, 3)
    grads = jax.tree.map(jnp.ones_like, params)
    ours, _ = sgd(0.1).update(grads, sgd(0.1).init(params))
    theirs, _ = optax.sgd(0.1).update(grads, optax.sgd(0.1).init(params))
    jax.tree.map(np.testing.assert_allclose, ours, theirs)
