"""The four concise chapters in three implementations (scratch, Flax Linen, Flax NNX): from
the same initial parameters the same training gives the same numbers, to float tolerance.
(With dropout the masks come from each library's own stream, so the dropout chapter is
compared at rate 0, and trained with rates > 0 in the experiments' smoke runs.)"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxd2l as d2l
from jaxd2l.chapters.linear_regression import from_concise
from jaxd2l.models import concise_impl, linear, mlp, softmax
from jaxd2l.nn.losses import cross_entropy, squared_loss

KEY = jax.random.key(0)


def losses_of(model, params, X, y, loss, epochs=3, batch_size=16):
    tx = optax.sgd(0.1)
    epoch = d2l.make_epoch(d2l.make_train_step(model.apply, loss, tx), batch_size)
    result = d2l.fit(d2l.init_state(params, tx, jax.random.key(1)), epoch, (X, y), epochs)
    return result.history["train_loss"].tolist(), result.params


@pytest.mark.parametrize("impl", ["concise", "nnx"])
def test_linear_regression(impl):
    X = jax.random.normal(KEY, (64, 2))
    y = X @ jnp.array([2.0, -3.4]) + 4.2
    scratch = linear.model(2)
    start = scratch.init(KEY)
    flax_model = concise_impl(impl).linear_regression(2)
    layer = {"kernel": start["w"][:, None], "bias": start["b"][None]}
    params = {"Dense_0": layer} if impl == "concise" else {"dense": layer}
    ours, trained = losses_of(flax_model, params, X, y, squared_loss)
    theirs, reference = losses_of(scratch, start, X, y, squared_loss)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(from_concise(trained)["w"], reference["w"], rtol=1e-5)


def classification_data():
    X = jax.random.uniform(KEY, (64, 28, 28, 1))
    return X, jax.random.randint(jax.random.key(2), (64,), 0, 10)


@pytest.mark.parametrize("impl", ["concise", "nnx"])
def test_softmax_regression(impl):
    X, y = classification_data()
    scratch = softmax.model()
    start = scratch.init(KEY)
    flax_model = concise_impl(impl).softmax_regression((28, 28, 1))
    params = concise_impl(impl).mlp_params([{"W": start["W"], "b": start["b"]}])
    ours, _ = losses_of(flax_model, params, X, y, cross_entropy)
    theirs, _ = losses_of(scratch, start, X.reshape(64, -1), y, cross_entropy)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


@pytest.mark.parametrize("impl", ["concise", "nnx"])
@pytest.mark.parametrize("rates", [None, (0.0, 0.0)])  # the MLP chapter; dropout's, at rate 0
def test_mlp_and_dropout(impl, rates):
    X, y = classification_data()
    sizes = (784, 32, 16, 10)
    scratch = mlp.model(sizes, scheme="xavier", dropout=rates or ())
    start = scratch.init(KEY)
    flax_model = concise_impl(impl).mlp((28, 28, 1), sizes[1:-1], dropout=rates or ())
    ours, _ = losses_of(flax_model, concise_impl(impl).mlp_params(start), X, y, cross_entropy)
    theirs, _ = losses_of(scratch, start, X.reshape(64, -1), y, cross_entropy)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
