"""jaxd2l.nn.regularization: dropout (the book's checks, its expectation, fresh masks per key)
and the L2 penalty on weights only (its gradient against jax.grad, scratch = optax)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.step import TrainState, init_state, make_train_step
from jaxd2l.data.synthetic import high_dimensional_regression
from jaxd2l.models import concise, linear, mlp
from jaxd2l.nn.losses import squared_loss
from jaxd2l.nn.optim import sgd
from jaxd2l.nn.regularization import decay_mask, decayed_sgd, dropout, l2_penalty


def test_the_books_checks_on_arange_16():
    X = jnp.arange(16, dtype=jnp.float32).reshape(2, 8)
    key = jax.random.key(0)
    np.testing.assert_array_equal(dropout(X, 0.0, key), X)
    np.testing.assert_array_equal(dropout(X, 1.0, key), jnp.zeros_like(X))  # no 0 / 0
    half = np.asarray(dropout(X, 0.5, key))
    kept = half != 0
    np.testing.assert_allclose(half[kept], 2 * np.asarray(X)[kept])  # kept units scaled
    assert 0 < kept.sum() < 16


def test_dropout_keeps_the_expectation_and_drops_the_expected_fraction():
    X = jnp.ones((1000, 100))
    out = dropout(X, 0.3, jax.random.key(1))
    assert abs(float((out == 0).mean()) - 0.3) < 0.01
    assert abs(float(out.mean()) - 1.0) < 0.01  # E[dropout(X)] = X


def test_masks_are_fresh_per_key_and_reproducible():
    X = jnp.ones((64, 32))
    a, b = dropout(X, 0.5, jax.random.key(1)), dropout(X, 0.5, jax.random.key(2))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, dropout(X, 0.5, jax.random.key(1)))


def test_every_batch_and_epoch_draws_its_own_masks():
    """Through the epoch: each batch's dropout key comes from (key, epoch, batch)."""

    def step(state, batch):
        kept = dropout(jnp.ones(32), 0.5, batch.key)
        pattern = kept @ 2.0 ** jnp.arange(32)  # the mask as one number
        return state, {"count": batch.mask.sum(), "loss": 0.0, "pattern": pattern}

    epoch = make_epoch(step, 4, per_batch=True)
    X, y = jnp.zeros((12, 1)), jnp.zeros(12)

    def start():  # fresh: the epoch donates its state
        return TrainState(None, None, jax.random.key(0), jnp.int32(0))

    after, first = epoch(start(), X, y)
    _, again = epoch(start(), X, y)
    _, second = epoch(after, X, y)
    patterns = np.asarray(first["pattern"]).tolist() + np.asarray(second["pattern"]).tolist()
    assert len(set(patterns)) == 6  # 3 batches x 2 epochs, all different
    np.testing.assert_array_equal(first["pattern"], again["pattern"])


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_rates_outside_zero_one_are_refused(p):
    with pytest.raises(ValueError, match=r"dropout rate\) must be in \[0, 1\]"):
        dropout(jnp.ones(3), p, jax.random.key(0))
    with pytest.raises(ValueError, match="dropout"):
        mlp.model((4, 3, 2), dropout=(p,))
    with pytest.raises(TypeError, match="must be a number"):
        dropout(jnp.ones(3), "0.5", jax.random.key(0))


def test_evaluation_drops_nothing_and_training_does():
    for model in (
        mlp.model((784, 32, 32, 10), dropout=(0.2, 0.5)),
        concise.mlp((28, 28, 1), (32, 32), dropout=(0.2, 0.5)),
    ):
        params = model.init(jax.random.key(0))
        X = jax.random.uniform(jax.random.key(1), (8, 28, 28, 1))
        np.testing.assert_array_equal(model.apply(params, X), model.apply(params, X))
        trained = model.apply(params, X, key=jax.random.key(2))
        assert not np.allclose(trained, model.apply(params, X))
        np.testing.assert_array_equal(trained, model.apply(params, X, key=jax.random.key(2)))
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        mlp.model((4, 3, 2), dropout=(0.1, 0.2))


def test_decay_mask_picks_weights_by_shape_not_biases():
    assert decay_mask(linear.init(jax.random.key(0), 3)) == {"w": True, "b": False}
    assert decay_mask(mlp.init(jax.random.key(0), (4, 3, 2))) == [{"W": True, "b": False}] * 2
    flax = concise.linear_regression(3).init(jax.random.key(0))
    assert decay_mask(flax) == {"Dense_0": {"kernel": True, "bias": False}}


def test_the_penalty_and_its_gradient_against_jax_grad():
    params = {"w": jnp.arange(3.0), "b": jnp.asarray(5.0)}
    penalty = l2_penalty(3.0)
    assert float(penalty(params)) == pytest.approx(0.5 * 3.0 * (0 + 1 + 4))
    grads = jax.grad(penalty)(params)
    np.testing.assert_allclose(grads["w"], 3.0 * params["w"])  # lambda * w
    assert float(grads["b"]) == 0.0  # the bias is not decayed
    with pytest.raises(ValueError, match="lambd must be a finite number >= 0"):
        l2_penalty(-1.0)


def test_scratch_penalty_and_optax_decay_give_the_same_trajectory():
    (X, y), _ = high_dimensional_regression(jax.random.key(0))
    model = linear.model(200, sigma=1.0)
    params = model.init(jax.random.key(1))
    trained = []
    for tx, penalty in ((sgd(0.003), l2_penalty(3.0)), (decayed_sgd(0.003, 3.0, params), None)):
        epoch = make_epoch(make_train_step(model.apply, squared_loss, tx, penalty=penalty), 5)
        state = init_state(jax.tree.map(jnp.copy, params), tx, jax.random.key(2))  # donated
        for _ in range(5):
            state, _ = epoch(state, X, y)
        trained.append(state.params)
    np.testing.assert_allclose(trained[0]["w"], trained[1]["w"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained[0]["b"], trained[1]["b"], rtol=1e-5, atol=1e-6)
    assert isinstance(decayed_sgd(0.1, 0.0, params), optax.GradientTransformation)


def test_weights_named_any_way_are_decayed_and_unreadable_params_are_refused():
    import types

    W1, b1 = jnp.ones((3, 2)), jnp.ones(2)
    for params in ({"W1": W1, "b1": b1}, {"weight": W1, "bias": b1}, (W1, b1)):
        assert float(l2_penalty(2.0)(params)) == 6.0  # 0.5 * 2 * ||W||^2, the bias left out
    with pytest.raises(TypeError, match="SimpleNamespace"):
        l2_penalty(1.0)(types.SimpleNamespace(W=W1, b=b1))
    with pytest.raises(ValueError, match="would decay nothing"):
        decayed_sgd(0.1, 1.0, {"scale": jnp.ones(())})
    only_bias = {"W": False, "b": True}  # an explicit mask wins over the rule
    assert float(l2_penalty(2.0, mask=only_bias)({"W": W1, "b": b1})) == 2.0


def test_dropout_refuses_an_int_key_and_a_batch_of_keys_by_name():
    X = jnp.ones((4, 3))
    with pytest.raises(TypeError, match="key must be a PRNG key"):
        dropout(X, 0.5, 0)
    with pytest.raises(ValueError, match="one PRNG key"):
        dropout(X, 0.5, jax.random.split(jax.random.key(0), 3))


def test_a_penalty_returning_a_vector_is_named():
    from jaxd2l.core.step import Batch, init_state, make_train_step
    from jaxd2l.nn.losses import squared_loss

    tx = sgd(0.1)
    step = make_train_step(linear.apply, squared_loss, tx, penalty=lambda p: p["w"] ** 2)
    state = init_state(linear.init(jax.random.key(0), 3), tx, jax.random.key(0))
    batch = Batch(jnp.ones((4, 3)), jnp.ones(4), jnp.ones(4, bool))
    with pytest.raises(ValueError, match="penalty must return a scalar, got shape"):
        jax.jit(step)(state, batch)
