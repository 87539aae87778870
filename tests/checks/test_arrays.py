"""jaxd2l.checks.arrays: array contracts by declaration, values checked when concrete."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.checks.arrays import array, takes
from jaxd2l.nn.losses import cross_entropy, squared_loss


@takes(x=array(ndim=2, kind="float"), y=array(rows_of="x"))
def _mean_error(x, y):
    return jnp.mean(x[:, 0] - y)


def test_concrete_non_finite_values_are_refused_naming_the_argument_and_the_index():
    # issue 39: cross_entropy(logits_with_nan, y) returned a NaN among finite losses
    logits = np.zeros((4, 3), np.float32)
    logits[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"`logits` holds NaN or infinite .*index \(2, 1\)"):
        cross_entropy(jnp.asarray(logits), jnp.zeros(4, jnp.int32))
    with pytest.raises(ValueError, match=r"`y` holds NaN or infinite .*index \(1,\): inf"):
        squared_loss(jnp.zeros(3), jnp.asarray([0.0, np.inf, 0.0]))
    with pytest.raises(ValueError, match="`x` holds NaN"):
        _mean_error(np.full((2, 2), np.nan, np.float32), np.zeros(2))
    # traced values are the divergence rule's: under jit a NaN goes through to it
    traced = jax.jit(cross_entropy)(jnp.asarray(logits), jnp.zeros(4, jnp.int32))
    assert np.isnan(np.asarray(traced)[2]) and np.isfinite(np.asarray(traced)[0])
    assert float(_mean_error(np.ones((2, 2), np.float32), np.zeros(2))) == 1.0
