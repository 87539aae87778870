"""What every driver does before its first epoch: check the arguments once (naming the one
at fault), place state, data and weights on the device(s), and derive the run's identity.
Data travel as tuples, `(X, y)` or `(X, y, weights)` (K folds: rows of `kfold_weights`).
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.checks.signatures import name_of, output_of
from jaxd2l.core.epoch import Epoch, as_epoch
from jaxd2l.core.step import TrainState

SUMS = "a dict of sums holding 'count' and 'loss' (make_evaluate's)"


class Split(NamedTuple):
    """A split as the drivers use it: inputs, targets and optional example weights."""

    X: jax.Array
    """Inputs [N, ...]."""
    y: jax.Array
    """Targets [N]."""
    weights: jax.Array | None = None
    """Example weights [N] float32, or None (every example counts once)."""

    def given(self) -> tuple:
        """(X, y), or (X, y, weights) when there are weights: an evaluation's arguments."""
        return (self.X, self.y) if self.weights is None else (self.X, self.y, self.weights)


def check_state(state: Any) -> TrainState:
    if not isinstance(state, TrainState):
        raise ArgumentTypeError(
            "state must be a TrainState from init_state(params, tx, key), got "
            f"{type(state).__name__}"
        )
    checks.key(state.key, "state.key")
    return state


def split_of(data: Any, name: str) -> Split:
    """(X, y) or (X, y, weights) as a `Split`, each part checked."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ArgumentTypeError(
            f"{name} must be a pair (X, y) or a triple (X, y, weights), got "
            f"{type(data).__name__}" + (f" of {len(data)}" if isinstance(data, tuple) else "")
        )
    X, y, *rest = data
    checks.dataset(X, y, name)
    weights = rest[0] if rest else None
    if weights is not None:
        weights = checks.example_weights(weights, X.shape[0], f"{name} weights")
    return Split(X, y, weights)


def holds_out(weights: jax.Array | None) -> bool:
    """True when example weights leave some examples out of training (a K-fold row)."""
    return weights is not None and bool((np.asarray(jax.device_get(weights)) == 0).any())


def check_held_out(train: Split, test: Split | None) -> None:
    """Weights that hold a fold out, evaluated on the same examples with no weights, would
    count the training fold as validation: refuse it, naming the fix."""
    if test is None or test.weights is not None or not holds_out(train.weights):
        return
    same = test.X is train.X or (
        test.X.shape == train.X.shape and bool(np.array_equal(*jax.device_get((test.X, train.X))))
    )
    if same:
        raise ArgumentError(
            "train weights hold examples out (a fold) but test evaluates the same examples "
            "without weights, the training fold included: pass test=(X, y, val_weights) "
            "(the held-out fold, e.g. 1 - weights)"
        )


class CheckedRun(NamedTuple):
    """A run's arguments checked and placed on the device(s), ready for a driver."""

    state: TrainState
    """A copy of the caller's state, which the driver may donate."""
    epoch: Epoch
    """The epoch."""
    train: Split
    """The training split, placed."""
    epochs: int
    """The epoch to stop at."""
    test: Split | None
    """The evaluation split, placed, or None."""
    evaluated: str = "test"
    """What the evaluation split is ("test" or "validation"): its records' prefix."""


def check_run(state, epoch, train, epochs, evaluate=None, test=None, validation=None) -> CheckedRun:
    """What every host driver does first: check the arguments once (naming the one at
    fault), then place the state (a copy the driver may donate) and data on the device(s).
    `test` or `validation` (one of them) is the split `evaluate` runs on."""
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((state, train))):
        raise ArgumentTypeError(
            "fit and its host drivers run a loop on the host (compiling, timing and saving "
            "each epoch) and cannot be traced by jax.jit or jax.vmap: for a whole run as one "
            "program use make_train (jax.jit(jax.vmap(train))(keys, (X, y)) for many seeds)"
        )
    state, epoch = check_state(state), as_epoch(epoch)
    epochs = checks.epochs(epochs)
    done = int(jax.device_get(state.epoch))
    if done > epochs:
        raise ArgumentError(
            f"the state has trained {done} epochs, more than epochs={epochs} (the epoch to "
            f"stop at): ask for {done} or more"
        )
    if test is not None and validation is not None:
        raise ArgumentError(
            "pass test= or validation= (the split evaluate runs on, named for what it is), not both"
        )
    evaluated = "validation" if validation is not None else "test"
    test = validation if validation is not None else test
    if (evaluate is None) != (test is None):
        raise ArgumentError(
            f"evaluate and {evaluated} go together: pass both (or neither)"
            if evaluate is None
            else "evaluate needs a split to run on: pass test= or validation="
        )
    if evaluate is not None:
        checks.callable_(evaluate, "evaluate")
    train = split_of(train, "train")
    epoch.check(state, train.X, train.y, "train", epochs)
    if test is not None:
        test = split_of(test, evaluated)
        epoch.check(state, test.X, test.y, evaluated)
        check_held_out(train, test)
        sums = output_of(evaluate, "evaluate", SUMS, state.params, *test.given())
        if not isinstance(sums, dict) or not {"count", "loss"} <= set(sums):
            raise ArgumentError(f"evaluate {name_of(evaluate)!r} must return {SUMS}")
    state, train, test = place(epoch.parallel, state, train, test)
    return CheckedRun(state, epoch, train, epochs, test, evaluated)


def place(parallel, state, train, test):
    """Everything on the device(s) once: numpy data would otherwise be copied to the device
    at every epoch. The state is copied so the loop can donate it (the caller keeps theirs)."""
    if parallel is not None:
        state, train = parallel.place_state(state), parallel.place_data(train)
        test = parallel.place_data(test) if test is not None else None
    else:
        train, test = jax.device_put((train, test))
    return jax.tree.map(lambda x: x.copy(), state), train, test


def _leaf_bytes(leaf: Any) -> bytes:
    """A leaf's dtype, shape and bytes, read from this process (a replicated array's own
    copy when the array spans processes)."""
    if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
        leaf = leaf.addressable_data(0)
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        leaf = jax.random.key_data(leaf)
    host = np.ascontiguousarray(np.asarray(jax.device_get(leaf)))
    return f"{host.dtype}{host.shape}".encode() + host.tobytes()


def digest(tree: Any) -> str | None:
    """A short fingerprint of a pytree of arrays (structure, dtypes, shapes and values)."""
    if tree is None:
        return None
    leaves, structure = jax.tree.flatten(tree)
    h = hashlib.sha256(str(structure).encode())
    for leaf in leaves:
        h.update(_leaf_bytes(leaf))
    return h.hexdigest()[:16]


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


IDENTITY = {
    "program": "the training program (another model, loss, optimizer, hyperparameter, "
    "penalty, dropout rate, batch size or remainder mode)",
    "start": "the initial state (another initialisation, or hyperparameters held in the "
    "optimizer state)",
    "data": "the training data",
    "weights": "the example weights (another fold)",
    "evaluation": "the evaluation (another split, metric or evaluation function)",
    "key": "the training key (another seed)",
}
"""The parts of a run's identity, and what a difference in each means."""


def run_identity(run: CheckedRun, program: str, evaluation: str | None = None) -> dict[str, Any]:
    """What makes a run the same run, derived from what decides its numbers, never listed
    by hand: the fingerprint of its epoch program as lowered for the data's shapes
    (`program`, the StableHLO text without debug locations: the model, loss, optimizer and
    its hyperparameters, penalty, dropout and batching are all in it), the initial state,
    the training data, the example weights, the evaluation program with its split, and the
    key; plus the JAX version, to explain a program that changed with it. The epoch count
    is not identity: 5 epochs then 5 more equal 10."""
    test = run.test
    if evaluation is not None and test is not None:
        evaluation = f"{_text_digest(evaluation)}:{run.evaluated}:{digest(test.given())}"
    return {
        "program": _text_digest(program),
        "start": digest(run.state._replace(key=None)),
        "data": digest((run.train.X, run.train.y)),
        "weights": digest(run.train.weights),
        "evaluation": _text_digest(evaluation) if evaluation is not None else None,
        "key": digest(run.state.key),
        "jax": f"jax {jax.__version__} on {jax.default_backend()}",
    }


def identity_differences(saved: dict[str, Any] | None, now: dict[str, Any]) -> str | None:
    """None when `saved` and `now` are the same run's identity, else one phrase naming what
    differs (and that JAX changed, where the program differs and so did JAX)."""
    if not saved:
        return "its identity is unknown (made by an older jaxd2l)"
    parts = [IDENTITY[k] for k in IDENTITY if saved.get(k) != now.get(k)]
    if not parts:
        return None
    said = "; ".join(parts)
    if saved.get("program") != now.get("program") and saved.get("jax") != now.get("jax"):
        said += (
            f" (JAX changed too: {saved.get('jax')} then, {now.get('jax')} now; the same "
            "settings can lower to another program)"
        )
    return f"{said} differ{'s' if len(parts) == 1 else ''}"
