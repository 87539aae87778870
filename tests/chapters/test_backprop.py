"""jaxd2l.chapters.backprop: the hand-written backward pass equals jax.grad; a training step keeps
the forward intermediates that inference does not."""

import jax
import numpy as np
import pytest

from jaxd2l.chapters import backprop


@pytest.mark.parametrize("lambd", [0.0, 0.3])
def test_backward_by_hand_equals_jax_grad(lambd):
    k1, k2, kx, ky = jax.random.split(jax.random.key(0), 4)
    params = {
        "W1": 0.1 * jax.random.normal(k1, (20, 16)),
        "W2": 0.1 * jax.random.normal(k2, (16, 5)),
    }
    X, y = jax.random.normal(kx, (8, 20)), jax.random.randint(ky, (8,), 0, 5)
    J, cache = backprop.forward(params, X, y, lambd)
    by_hand = backprop.backward(params, cache, y, lambd)
    auto = jax.grad(lambda p: backprop.forward(p, X, y, lambd)[0])(params)
    for k in params:
        np.testing.assert_allclose(by_hand[k], auto[k], atol=1e-6)
    assert float(J) > 0 and set(cache) == {"X", "z", "h", "o"}


def test_training_keeps_intermediates_that_grow_with_depth():
    shallow, deep = (backprop.memory_figures(d, 64, 256) for d in (2, 8))
    if not np.isfinite(deep["training"]["temp_bytes"]):
        pytest.skip("this backend gives no memory analysis")
    assert deep["training"]["temp_bytes"] > 2 * shallow["training"]["temp_bytes"] > 0
    assert deep["inference"]["temp_bytes"] < deep["training"]["temp_bytes"]
    assert deep["training"]["flops"] > 2 * deep["inference"]["flops"]  # backward costs more


def test_rematerialization_trades_memory_for_flops():
    runs = [backprop.remat_figures(d, 64, 256) for d in (4, 8)]
    for r in runs:
        if not np.isfinite(r["stored"]["temp_bytes"]):
            pytest.skip("this backend gives no memory analysis")
        assert r["rematerialized"]["temp_bytes"] < r["stored"]["temp_bytes"]
        # one recomputed forward matmul on top of forward + two backward matmuls: 4/3
        assert r["rematerialized"]["flops"] / r["stored"]["flops"] == pytest.approx(4 / 3, rel=0.05)
    stored_growth = runs[1]["stored"]["temp_bytes"] - runs[0]["stored"]["temp_bytes"]
    remat_growth = runs[1]["rematerialized"]["temp_bytes"] - runs[0]["rematerialized"]["temp_bytes"]
    assert remat_growth < stored_growth  # fewer bytes kept per extra layer
