"""EarlyStopping (jaxd2l.core.hooks) and noisy labels (jaxd2l.data.noise): the patience rule,
and the kept parameters equal a run stopped at the best epoch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.fit import fit
from jaxd2l.core.step import init_state, make_train_step
from jaxd2l.data.noise import noisy_labels
from jaxd2l.models import softmax
from jaxd2l.nn.early_stopping import EarlyStopping
from jaxd2l.nn.evaluate import make_evaluate
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.metrics import classification_metrics
from jaxd2l.nn.optim import sgd


def test_noisy_labels_replace_exactly_the_fraction_with_wrong_classes():
    y = jnp.arange(1000) % 10
    noisy, chosen = noisy_labels(jax.random.key(0), y, 0.3)
    assert int(chosen.sum()) == 300
    assert bool((noisy[chosen] != y[chosen]).all()) and bool((noisy[~chosen] == y[~chosen]).all())
    assert int(noisy.min()) >= 0 and int(noisy.max()) <= 9
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        noisy_labels(jax.random.key(0), y, 1.5)


def test_the_patience_rule_and_the_kept_parameters():
    stop = EarlyStopping(patience=2, monitor="test_acc")
    accs = [0.5, 0.7, 0.65, 0.72, 0.71, 0.70]
    decisions = [
        stop.update({"epoch": e + 1, "test_acc": a}, {"w": jnp.full(2, e)})
        for e, a in enumerate(accs)
    ]
    assert decisions == [False, False, False, False, False, True]
    assert stop.best_epoch == 4 and stop.best == 0.72
    np.testing.assert_array_equal(stop.best_params["w"], [3, 3])
    with pytest.raises(ValueError, match="patience must be >= 1"):
        EarlyStopping(patience=0, monitor="test_acc")
    with pytest.raises(ValueError, match="pass evaluate= and validation="):
        EarlyStopping(patience=1, monitor="test_acc").update({"epoch": 1}, {})


def test_fit_stops_and_keeps_what_a_run_stopped_at_the_best_epoch_has(fake_fashion_mnist):
    from jaxd2l.data import fashion_mnist as fm

    _, arrays = fake_fashion_mnist
    tx = sgd(3.0)  # a large rate makes the validation accuracy wobble, so the rule fires
    step = make_train_step(softmax.apply, cross_entropy, tx, classification_metrics)
    epoch = make_epoch(step, 64, prepare=fm.scale_images)
    evaluate = make_evaluate(
        softmax.apply, cross_entropy, classification_metrics, prepare=fm.scale_images
    )
    state = init_state(softmax.init(jax.random.key(0)), tx, jax.random.key(1))
    stop = EarlyStopping(patience=2, monitor="test_acc")
    result = fit(
        state,
        epoch,
        arrays["train"],
        40,
        evaluate=evaluate,
        test=arrays["test"],
        hooks=[stop],
        divergence_factor=None,
    )
    last = result.last["epoch"]
    assert last == stop.best_epoch + 2 or last == 40
    again = fit(
        state,
        epoch,
        arrays["train"],
        stop.best_epoch,
        divergence_factor=None,
    )
    np.testing.assert_allclose(stop.best_params["W"], again.params["W"], atol=1e-6)
