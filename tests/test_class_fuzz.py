"""The fuzz by class: every public function that takes arrays, called with each array argument
made wrong in each way a caller gets it wrong (one example short, a rank too many or too
few, the wrong dtype, values out of range, empty). Every call must either return finite
numbers or raise the library's own error (`UserError`, a ValueError or TypeError) naming
that argument: never an error from deep inside jax or numpy, never NaN passed on.

`SURFACES` lists the functions with a valid call each; the mutations are drawn for every
array argument of every surface, so a new function with arrays gets every class of wrong
input by adding one line."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import jaxd2l as d2l
from jaxd2l.chapters import distribution_shift as shift
from jaxd2l.chapters import label_shift
from jaxd2l.checks.errors import UserError
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.models import linear, perceptron, softmax
from jaxd2l.nn import losses, metrics
from jaxd2l.search import trials

KEY = jax.random.key(0)
N, D, K = 6, 3, 3
X = jnp.linspace(-1, 1, N * D).reshape(N, D)
Y = jnp.array([0, 1, 2, 0, 1, 2])
LOGITS = jnp.linspace(-2, 2, N * K).reshape(N, K)
PROBS = jax.nn.softmax(LOGITS)
TARGET = jnp.linspace(0, 1, N)
WEIGHTS = jnp.ones(N)
PM = jnp.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
CONFUSION = jnp.eye(K) * 0.8 + 0.2 / K


def _fit(X, y, weights):
    tx = d2l.sgd(0.1)
    epoch = d2l.make_epoch(d2l.make_train_step(softmax.apply, losses.cross_entropy, tx), 4)
    state = d2l.init_state(softmax.init(KEY, D, K), tx, KEY)
    return d2l.fit(state, epoch, (X, y, weights), 1).params


def _train(X, y, weights):
    tx = d2l.sgd(0.1)
    epoch = d2l.make_epoch(d2l.make_train_step(softmax.apply, losses.cross_entropy, tx), 4)
    return d2l.make_train(lambda k: softmax.init(k, D, K), tx, epoch, 1)(KEY, (X, y, weights))[0]


def _evaluate(X, y, weights):
    evaluate = d2l.make_evaluate(softmax.apply, losses.cross_entropy, batch_size=4)
    return evaluate(softmax.init(KEY, D, K), X, y, weights)


# (name, function, {argument: (valid value, role)}, other keyword arguments)
SURFACES = [
    ("cross_entropy", losses.cross_entropy, {"logits": (LOGITS, "x"), "y": (Y, "labels")}, {}),
    ("brier", losses.brier_loss, {"logits": (LOGITS, "x"), "y": (Y, "labels")}, {}),
    ("js", losses.jensen_shannon_loss, {"logits": (LOGITS, "x"), "y": (Y, "labels")}, {}),
    ("naive_ce", losses.naive_cross_entropy, {"y_hat": (PROBS, "probs"), "y": (Y, "labels")}, {}),
    ("squared", losses.squared_loss, {"y_hat": (TARGET, "x"), "y": (TARGET, "x")}, {}),
    ("l1", losses.l1_loss, {"y_hat": (TARGET, "x"), "y": (TARGET, "x")}, {}),
    ("huber", losses.huber_loss, {"y_hat": (TARGET, "x"), "y": (TARGET, "x")}, {}),
    ("accuracy", metrics.accuracy, {"logits": (LOGITS, "x"), "y": (Y, "labels")}, {}),
    (
        "ece",
        metrics.expected_calibration_error,
        {"probs": (PROBS, "probs"), "y": (Y, "labels")},
        {},
    ),
    ("reliability", metrics.reliability, {"probs": (PROBS, "probs"), "y": (Y, "labels")}, {}),
    (
        "confusion_matrix",
        label_shift.confusion_matrix,
        {"predicted": (Y, "labels"), "labels": (Y, "labels")},
        {"num_classes": K},
    ),
    (
        "estimate_target_priors",
        label_shift.estimate_target_priors,
        {"confusion": (CONFUSION, "square"), "predicted_labels": (Y, "labels")},
        {},
    ),
    (
        "correct_probabilities",
        label_shift.correct_probabilities,
        {
            "probs": (PROBS, "probs"),
            "target_priors": (jnp.ones(K) / K, "priors"),
            "source_priors": (jnp.ones(K) / K, "priors"),
        },
        {},
    ),
    (
        "sample_with_priors",
        label_shift.sample_with_priors,
        {"labels": (Y, "labels"), "priors": (jnp.ones(K) / K, "priors")},
        {"key": KEY, "n": 4},
    ),
    ("closed_form", linear.closed_form, {"X": (X, "x"), "y": (TARGET, "x")}, {}),
    ("perceptron", perceptron.train, {"X": (X, "x"), "y": (PM, "signs")}, {"max_epochs": 5}),
    (
        "fit_weighted_lines",
        shift.fit_weighted_lines,
        {"x": (X[:, :1], "x"), "y": (X[:, 1:2], "x"), "weights": (WEIGHTS[None], "weights")},
        {"steps": 3},
    ),
    (
        "fit_domain_classifier",
        shift.fit_domain_classifier,
        {"x_source": (X[:, :1], "x"), "x_target": (X[:, 1:2] + 0.5, "x")},
        {"steps": 3},
    ),
    ("fit", _fit, {"X": (X, "x"), "y": (Y, "labels"), "weights": (WEIGHTS, "weights")}, {}),
    (
        "make_train",
        _train,
        {"X": (X, "x"), "y": (Y, "labels"), "weights": (WEIGHTS, "weights")},
        {},
    ),
    (
        "make_evaluate",
        _evaluate,
        {"X": (X, "x"), "y": (Y, "labels"), "weights": (WEIGHTS, "weights")},
        {},
    ),
    (
        "validation_split",
        trials.validation_split,
        {"X": (X, "x"), "y": (Y, "labels")},
        {"key": KEY, "val_size": 2},
    ),
    ("text_labels", fm.text_labels, {"labels": (Y, "labels")}, {}),
]

# What each role may be made into, besides the shape classes every array gets.
OUT_OF_RANGE = {
    "labels": [lambda a: a.at[0].set(-1), lambda a: a.at[0].set(K), lambda a: a + 0.5],
    "signs": [lambda a: a.at[0].set(0.0), lambda a: a * 2],
    "probs": [lambda a: a * 2, lambda a: -a],
    "priors": [lambda a: -a, lambda a: a.at[0].set(jnp.nan), lambda a: jnp.zeros_like(a)],
    "weights": [lambda a: -a, lambda a: a.at[..., 0].set(jnp.nan), lambda a: jnp.zeros_like(a)],
    "square": [lambda a: a[:, :-1], lambda a: jnp.zeros_like(a)],
    "x": [lambda a: a.astype(jnp.complex64)],
}
SHAPES = {
    "one short": lambda a: a[:-1] if a.ndim and a.shape[0] > 1 else None,
    "a rank more": lambda a: a[..., None],
    "a rank less": lambda a: a[0] if a.ndim else None,
    "empty": lambda a: a[:0] if a.ndim else None,
    "a string": lambda a: "0,1,2",
    "None": lambda a: None,
}


def _mutations():
    out = []
    for surface, fn, arrays, extra in SURFACES:
        for arg, (_, role) in arrays.items():
            for what, change in SHAPES.items():
                out.append((surface, fn, arrays, extra, arg, what, change))
            for i, change in enumerate(OUT_OF_RANGE.get(role, [])):
                out.append((surface, fn, arrays, extra, arg, f"{role} #{i}", change))
    return out


MUTATIONS = _mutations()


def _finite(out) -> bool:
    for leaf in jax.tree.leaves(out):
        if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.inexact):
            if not bool(jnp.all(jnp.isfinite(leaf))):
                return False
    return True


def _call(fn, arrays, extra, arg=None, value=None):
    kwargs = {name: v for name, (v, _) in arrays.items()}
    if arg is not None:
        kwargs[arg] = value
    return fn(**kwargs, **extra)


def test_every_surface_runs_as_given():
    for surface, fn, arrays, extra in SURFACES:
        assert _finite(_call(fn, arrays, extra)), surface


def run_mutation(surface, fn, arrays, extra, arg, what, change):
    wrong = change(arrays[arg][0])
    if wrong is None and what != "None":
        return "skipped"
    try:
        out = _call(fn, arrays, extra, arg, wrong)
    except UserError as e:
        assert isinstance(e, ValueError | TypeError), (surface, arg, what, e)
        said = str(e).replace("`", "")
        assert arg in said, f"{surface}: {arg} {what}: the error does not name {arg}: {said}"
        return "refused"
    except Exception as e:  # noqa: BLE001 - the point: nothing but the library's own error
        raise AssertionError(f"{surface}: {arg} {what}: {type(e).__name__}: {e}") from None
    assert _finite(out), f"{surface}: {arg} {what}: accepted, and NaN or inf came back"
    return "accepted"


def test_wrong_arrays_get_the_librarys_own_error_naming_the_argument():
    """Every mutation of every surface (a few hundred calls, seconds): the sweep is whole,
    not sampled, so a class cannot slip through between runs."""
    failures, seen = [], {"refused": 0, "accepted": 0, "skipped": 0}
    for mutation in MUTATIONS:
        try:
            seen[run_mutation(*mutation)] += 1
        except AssertionError as e:
            failures.append(str(e)[:300])
    assert failures == [], "\n".join(failures)
    assert seen["refused"] > 300  # most wrong arrays are refused, by name


def test_what_a_callers_own_function_returns_is_refused_naming_the_function():
    # issue 39: a caller's function is checked by what it returns, once, at trace time
    import jax.numpy as jnp
    from flax import nnx

    from jaxd2l.models import nnx as nnx_model

    def my_loss(y_hat, y):
        return jnp.mean((y_hat[:, 0] - y) ** 2)  # a mean where one value per example goes

    def my_metrics(y_hat, y):
        return jnp.zeros(y.shape[0])  # not a dict

    def my_observe(params, X, y):
        return "ok"

    def my_evaluate(params, X, y):
        return jnp.zeros(())

    def my_apply(params, X):
        return jnp.sum(X @ params["W"])  # one number for the batch

    X, y = jnp.ones((16, 5)), jnp.zeros(16, jnp.int32)
    params, tx = softmax.init(KEY, 5, 3), d2l.sgd(0.1)
    state = d2l.init_state(params, tx, KEY)
    ok_loss = d2l.nn.losses.cross_entropy
    scalar_loss = d2l.make_train_step(softmax.apply, my_loss, tx)
    with pytest.raises(ValueError, match=r"the loss '.*my_loss' .*got an array of shape \(\)"):
        d2l.fit(state, d2l.make_epoch(scalar_loss, 8), (X, y), 1)
    not_a_dict = d2l.make_train_step(softmax.apply, ok_loss, tx, my_metrics)
    with pytest.raises(ValueError, match=r"metrics '.*my_metrics' must return a dict"):
        d2l.fit(state, d2l.make_epoch(not_a_dict, 8), (X, y), 1)
    epoch = d2l.make_epoch(d2l.make_train_step(softmax.apply, ok_loss, tx), 8)
    train = d2l.make_train(lambda k: softmax.init(k, 5, 3), tx, epoch, 1, observe=my_observe)
    with pytest.raises(TypeError, match=r"observe '.*my_observe' must return a pytree of arrays"):
        train(KEY, (X, y), (X, y))
    with pytest.raises(ValueError, match=r"evaluate '.*my_evaluate' must return a dict of sums"):
        d2l.fit(state, epoch, (X, y), 1, evaluate=my_evaluate, test=(X, y))
    bad = d2l.make_epoch(d2l.make_train_step(my_apply, ok_loss, tx), 8)
    with pytest.raises(ValueError, match=r"apply '.*my_apply' must return one array with a row"):
        d2l.fit(state, bad, (X, y), 1)

    class NeedsTrain(nnx.Module):
        def __init__(self, rngs):
            self.layer = nnx.Linear(5, 3, rngs=rngs)

        def __call__(self, x, train):
            return self.layer(x)

    with pytest.raises(TypeError, match=r"NeedsTrain.__call__ must take a batch alone"):
        nnx_model.pure(NeedsTrain, (5,))
