"""Advice that works: where a refusal tells the caller what to do instead, doing it gives the
right result (issue 39's class; the label-shift instance is in
tests/chapters/test_distribution_shift.py)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxd2l as d2l
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import softmax
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics

KEY = jax.random.key(0)


def _images(n=64):
    X = jax.random.randint(KEY, (n, 28, 28, 1), 0, 256).astype(jnp.uint8)
    return X, jnp.arange(n, dtype=jnp.int32) % 10


def _said(error) -> str:
    return str(error.value)


def test_following_the_advice_of_each_refusal_trains():
    X, y = _images()
    tx = d2l.sgd(0.1)
    state = d2l.init_state(softmax.init(KEY), tx, KEY)
    step = d2l.make_train_step(softmax.apply, cross_entropy, tx, classification_metrics)

    with pytest.raises(ValueError, match="prepare=fashion_mnist.scale_images") as e:
        d2l.fit(state, d2l.make_epoch(step, 16), (X, y), 1)  # uint8 pixels, unscaled
    assert "prepare=fashion_mnist.scale_images" in _said(e)
    followed = d2l.fit(state, d2l.make_epoch(step, 16, prepare=fm.scale_images), (X, y), 1)
    by_hand = d2l.fit(state, d2l.make_epoch(step, 16), (fm.scale_images(X), y), 1)
    np.testing.assert_allclose(followed.params["W"], by_hand.params["W"], atol=1e-6)

    one_hot = jax.nn.one_hot(y, 10)
    epoch = d2l.make_epoch(step, 16, prepare=fm.scale_images)
    with pytest.raises(ValueError, match=r"pass y.argmax\(-1\)"):
        d2l.fit(state, epoch, (X, one_hot), 1)
    again = d2l.fit(state, epoch, (X, one_hot.argmax(-1).astype(jnp.int32)), 1)
    np.testing.assert_allclose(again.params["W"], followed.params["W"], atol=1e-6)

    keys = jax.random.split(KEY, 3)
    with pytest.raises(ValueError, match=r"pass keys\[0\], or vmap over the keys"):
        d2l.init_state(softmax.init(KEY), tx, keys)
    assert int(d2l.init_state(softmax.init(KEY), tx, keys[0]).epoch) == 0

    stop = d2l.EarlyStopping(1, "validation_acc")
    with pytest.raises(ValueError, match="pass evaluate= and validation= to fit"):
        d2l.fit(state, epoch, (X, y), 2, hooks=[stop])
    evaluate = d2l.make_evaluate(
        softmax.apply, cross_entropy, classification_metrics, prepare=fm.scale_images
    )
    stop = d2l.EarlyStopping(1, "validation_acc")
    result = d2l.fit(state, epoch, (X, y), 2, evaluate=evaluate, validation=(X, y), hooks=[stop])
    assert result.params_epoch == stop.best_epoch


def test_k_fold_rows_given_to_one_run_are_vmapped_as_the_refusal_says():
    X, y = _images(40)
    tx = d2l.sgd(0.1)
    step = d2l.make_train_step(softmax.apply, cross_entropy, tx)
    epoch = d2l.make_epoch(step, 8, prepare=fm.scale_images)
    train = d2l.make_train(softmax.init, tx, epoch, 1)
    rows, _ = d2l.kfold_weights(40, 4)
    with pytest.raises(ValueError, match=re.escape("jax.vmap the run over the rows")):
        train(KEY, (X, y, rows))
    folds = jax.vmap(train, in_axes=(None, (None, None, 0)))(KEY, (X, y, rows))
    for k in (0, 3):
        alone = train(KEY, (X, y, rows[k]))
        np.testing.assert_allclose(folds.state.params["W"][k], alone.state.params["W"], atol=1e-6)
