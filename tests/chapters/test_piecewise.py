"""jaxd2l.chapters.piecewise: a ReLU or pReLU MLP is continuous and piecewise linear along a line;
the pieces are counted from the exact (jvp) derivative."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.chapters import piecewise
from jaxd2l.models import concise, mlp
from jaxd2l.nn.activations import prelu, relu

TS = jnp.linspace(-5, 5, 20001)
X0, D = jnp.asarray([0.3, -0.7]), jnp.asarray([1.0, 0.5])


@pytest.mark.parametrize("hidden", [1, 4, 9])
def test_a_one_hidden_layer_relu_net_has_at_most_h_plus_one_pieces(hidden):
    model = mlp.model((2, hidden, 1), scheme="he")
    params = model.init(jax.random.key(hidden))
    out, slopes = piecewise.along_line(model.apply, params, X0, D, TS)
    pieces = piecewise.count_pieces(slopes)
    assert 1 <= pieces <= hidden + 1  # the line crosses each unit's hyperplane at most once
    # within a piece the output is linear: finite differences equal the jvp slope
    fd = np.diff(np.asarray(out[:, 0])) / float(TS[1] - TS[0])
    steady = np.abs(np.diff(np.asarray(slopes[:, 0]))) < 1e-6
    np.testing.assert_allclose(fd[steady], np.asarray(slopes[:-1, 0])[steady], rtol=1e-2, atol=1e-3)
    assert float(jnp.abs(jnp.diff(out, axis=0)).max()) < 0.05  # continuous: no jumps


def test_prelu_is_relu_at_slope_zero_and_its_slope_learns():
    x = jnp.linspace(-2, 2, 9)
    np.testing.assert_array_equal(prelu(x, 0.0), relu(x))
    model = mlp.prelu_model((2, 8, 1), scheme="he")
    params = model.init(jax.random.key(0))
    assert params["slopes"].shape == (1,) and float(params["slopes"][0]) == 0.25
    grads = jax.grad(lambda p: model.apply(p, jnp.asarray([[-1.0, 2.0]])).sum())(params)
    assert float(jnp.abs(grads["slopes"]).sum()) > 0  # a parameter like any other
    _, slopes = piecewise.along_line(model.apply, params, X0, D, TS)
    assert 1 <= piecewise.count_pieces(slopes) <= 9
    flax_prelu = concise.mlp((2,), (8,), 1, activation="prelu")
    assert "PReLU_0" in flax_prelu.init(jax.random.key(0))
