import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxd2l.nn import losses


def test_softmax_rows_sum_to_one_and_shift_invariance(key):
    logits = jax.random.normal(key, (5, 10))
    p = losses.softmax(logits)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert bool((p >= 0).all())
    np.testing.assert_allclose(losses.softmax(logits + 3.0), p, rtol=1e-5)
    np.testing.assert_allclose(jnp.exp(losses.log_softmax(logits + 100.0)), p, rtol=1e-5)


def test_naive_and_stable_agree_on_moderate_logits(key):
    logits = 3 * jax.random.normal(key, (8, 10))
    y = jnp.arange(8) % 10
    np.testing.assert_allclose(
        losses.naive_softmax_cross_entropy(logits, y), losses.cross_entropy(logits, y), rtol=1e-5
    )
    np.testing.assert_allclose(
        losses.cross_entropy(logits, y),
        optax.softmax_cross_entropy_with_integer_labels(logits, y),
        rtol=1e-5,
    )


def test_extreme_logits_break_naive_but_not_stable():
    logits = jnp.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]])
    y = jnp.array([2, 0])
    naive = losses.naive_softmax_cross_entropy(logits, y)
    assert not bool(jnp.isfinite(naive).all())
    stable = losses.cross_entropy(logits, y)
    np.testing.assert_allclose(stable, [2e4, 2e4], rtol=1e-6)

    def mean_loss(f):
        return lambda o: f(o, y).mean()

    assert bool(jnp.isfinite(jax.grad(mean_loss(losses.cross_entropy))(logits)).all())
    assert not bool(
        jnp.isfinite(jax.grad(mean_loss(losses.naive_softmax_cross_entropy))(logits)).all()
    )


def test_gradient_is_softmax_minus_onehot(key):
    logits = jax.random.normal(key, (6, 10))
    y = jnp.array([0, 3, 9, 1, 1, 5])
    grad = jax.grad(lambda o: losses.cross_entropy(o, y).sum())(logits)
    np.testing.assert_allclose(
        grad, losses.softmax(logits) - jax.nn.one_hot(y, 10), rtol=1e-5, atol=1e-7
    )


def test_label_smoothing_matches_optax(key):
    logits = jax.random.normal(key, (4, 10))
    y = jnp.array([1, 2, 3, 4])
    targets = optax.smooth_labels(jax.nn.one_hot(y, 10), 0.1)
    np.testing.assert_allclose(
        losses.cross_entropy(logits, y, label_smoothing=0.1),
        optax.softmax_cross_entropy(logits, targets),
        rtol=1e-5,
    )


def test_regression_losses_and_their_derivatives():
    r = jnp.array([-2.0, -0.5, 0.5, 2.0])
    zero = jnp.zeros(4)
    np.testing.assert_allclose(losses.squared_loss(r, zero), r**2 / 2)
    np.testing.assert_allclose(losses.l1_loss(r, zero), jnp.abs(r))
    np.testing.assert_allclose(losses.huber_loss(r, zero, 1.0), [1.5, 0.125, 0.125, 1.5])
    grad = jax.vmap(jax.grad(lambda v: losses.huber_loss(v, jnp.zeros(()), 1.0)))
    np.testing.assert_allclose(grad(r), [-1.0, -0.5, 0.5, 1.0])


def test_column_predictions_do_not_broadcast_against_vector_targets():
    y_hat, y = jnp.ones((4, 1)), jnp.zeros(4)
    assert losses.squared_loss(y_hat, y).shape == (4, 1)


@pytest.mark.parametrize("fn", [losses.squared_loss, losses.l1_loss, losses.huber_loss])
def test_regression_losses_jit_and_no_jit_agree(fn, key):
    a, b = jax.random.normal(key, (2, 16))
    np.testing.assert_allclose(jax.jit(fn)(a, b), fn(a, b), rtol=1e-6)


def test_direct_calls_check_concrete_labels_like_fit():
    logits = jnp.zeros((3, 4))
    with pytest.raises(ValueError, match=r"y` must hold class ids in \[0, 4\).*\[-1, 2\]"):
        losses.cross_entropy(logits, jnp.asarray([0, -1, 2]))
    with pytest.raises(ValueError, match=r"in \[0, 4\).*\[0, 4\]"):
        losses.cross_entropy(logits, jnp.asarray([0, 4, 2]))
    with pytest.raises(ValueError, match=r"got shape \(3, 1\): pass y\[:, 0\]"):
        losses.cross_entropy(logits, jnp.asarray([[0], [1], [2]]))
    with pytest.raises(ValueError, match="must be probabilities .* not logits"):
        losses.naive_cross_entropy(jnp.asarray([[2.0, -1.0]]), jnp.asarray([0]))
    assert bool(
        jnp.isfinite(losses.naive_cross_entropy(jnp.asarray([[0.3, 0.7]]), jnp.asarray([1]))).all()
    )


def test_under_jit_an_out_of_range_label_gives_nan_not_another_class():
    logits = jnp.asarray([[0.0, 5.0], [1.0, 2.0]])
    values = jax.jit(losses.cross_entropy)(logits, jnp.asarray([-1, 1]))
    assert bool(jnp.isnan(values[0])) and bool(jnp.isfinite(values[1]))  # -1 is not class 1
    assert bool(jnp.isnan(jax.jit(losses.cross_entropy)(logits, jnp.asarray([0, 2]))[1]))


def test_the_closed_form_refuses_non_finite_data():
    from jaxd2l.models import linear

    X = jnp.ones((4, 2)).at[1, 1].set(jnp.nan)
    with pytest.raises(ValueError, match="closed_form: X holds NaN or infinite values"):
        linear.closed_form(X, jnp.ones(4))
