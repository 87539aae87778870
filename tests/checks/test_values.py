"""Wrong input never gives wrong numbers: each mistake a research caller makes through the
public functions raises ValueError/TypeError naming the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.step import make_train_step
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.data.synthetic import synthetic_regression
from jaxd2l.models import linear, mlp, softmax
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.optim import sgd
from tests.helpers import classifier_fit, images

FAST = settings(max_examples=25, deadline=None)


@FAST
@given(n_x=st.integers(1, 40), n_y=st.integers(1, 40))
def test_x_and_y_of_different_lengths_are_refused(n_x, n_y):
    if n_x == n_y:
        return
    with pytest.raises(ValueError, match=f"X has {n_x} examples but y has {n_y}"):
        classifier_fit(images(n_x), np.zeros(n_y, np.int32))


@FAST
@given(bad=st.one_of(st.integers(10, 1000), st.integers(-1000, -1)))
def test_labels_outside_the_classes_are_refused(bad):
    y = np.zeros(32, np.int32)
    y[5] = bad
    with pytest.raises(ValueError, match=r"class ids in \[0, 10\)"):
        classifier_fit(images(), y)


def test_float_one_hot_and_wrong_rank_labels_are_refused():
    with pytest.raises(TypeError, match="integer class ids"):
        classifier_fit(images(), np.zeros(32, np.float32))
    with pytest.raises(ValueError, match="one-hot"):
        classifier_fit(images(), np.eye(10, dtype=np.int32)[np.zeros(32, int)])
    with pytest.raises(ValueError, match="same length|one target per example"):
        classifier_fit(images(), np.zeros((32, 1, 1), np.int32))


def test_empty_and_non_finite_data_are_refused():
    with pytest.raises(ValueError, match="empty"):
        classifier_fit(images(0), np.zeros(0, np.int32))
    X = images()
    X[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        classifier_fit(X, np.zeros(32, np.int32))


def test_uint8_pixels_without_scaling_and_scaling_twice_are_refused():
    X = (images() * 255).astype(np.uint8)
    with pytest.raises(ValueError, match="uint8 pixels but nothing scales them"):
        classifier_fit(X, np.zeros(32, np.int32))
    with pytest.raises(TypeError, match="already scaled"):
        fm.scale_images(jnp.asarray(images()))
    with pytest.raises(TypeError, match="already scaled"):
        classifier_fit(images(), np.zeros(32, np.int32), prepare=fm.scale_images)


@FAST
@given(rank=st.sampled_from([0, 1]))
def test_model_inputs_without_a_batch_axis_are_refused(rank):
    X = jnp.ones((3,) * rank)
    for model, params in (
        (softmax, softmax.init(jax.random.key(0), 3, 2)),
        (mlp, mlp.init(jax.random.key(0), (3, 4, 2))),
    ):
        with pytest.raises(ValueError, match="leading batch axis"):
            model.apply(params, X)
    with pytest.raises(ValueError, match="rank 2"):
        linear.apply(linear.init(jax.random.key(0), 3), jnp.ones((2, 3, 1)))


def test_params_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"W \(5, 2\).*inputs of 3 features"):
        softmax.apply(softmax.init(jax.random.key(0), 5, 2), jnp.ones((4, 3)))
    with pytest.raises(ValueError, match=r"params\[1\]"):
        params = mlp.init(jax.random.key(0), (3, 4, 2))
        params[1]["W"] = jnp.ones((5, 2))
        mlp.apply(params, jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="w of shape"):
        linear.apply(linear.init(jax.random.key(0), 2), jnp.ones((4, 3)))


@FAST
@given(
    sizes=st.one_of(
        st.lists(st.integers(-5, 0), min_size=2, max_size=4).map(lambda s: [784, *s]),
        st.just([784]),
        st.just([784.0, 10]),
        st.just("784,10"),
    )
)
def test_bad_widths_are_refused(sizes):
    with pytest.raises((ValueError, TypeError), match="sizes"):
        mlp.init(jax.random.key(0), sizes)


def test_keys_must_be_one_prng_key():
    X, y = images(), np.zeros(32, np.int32)
    with pytest.raises(TypeError, match="PRNG key"):
        classifier_fit(X, y, key=0)
    with pytest.raises(ValueError, match="one PRNG key"):
        classifier_fit(X, y, key=jax.random.split(jax.random.key(0), 3))
    with pytest.raises(TypeError, match="PRNG key"):
        softmax.init(42)
    with pytest.raises(TypeError, match="PRNG key"):
        synthetic_regression(np.zeros(3))


@FAST
@given(value=st.one_of(st.floats(1.0, 500.0), st.booleans(), st.text(max_size=2)))
def test_floats_where_integers_are_expected(value):
    step = make_train_step(softmax.apply, cross_entropy, sgd(0.1))
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        make_epoch(step, value)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        classifier_fit(images(), np.zeros(32, np.int32), epochs=value)


@FAST
@given(lr=st.sampled_from([0.0, -0.1, float("nan"), float("inf"), -float("inf")]))
def test_learning_rates_must_be_finite_and_positive(lr):
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        sgd(lr)


def test_epochs_beyond_32_bit_keys_are_refused():
    from jaxd2l import checks

    assert checks.epochs(3) == 3
    with pytest.raises(ValueError, match=r"epochs must be at most 2147483647"):
        checks.epochs(10**30)
