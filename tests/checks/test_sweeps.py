"""The one check every sweep's values pass: flat, finite, bounded, each value once."""

import jax
import jax.numpy as jnp
import pytest

import jaxd2l as d2l
from jaxd2l.chapters import linear_regression, model_selection
from jaxd2l.checks.sweeps import grid
from jaxd2l.search import trials


def test_a_grid_is_a_flat_list_of_bounded_numbers_each_once():
    assert grid((0.1, 0.3), "lrs", above=0) == [0.1, 0.3]
    for values, said in [
        ([[0.1]], "1-D"),
        ([], "non-empty"),
        ("0.1,0.3", "list of numbers"),
        ([0.1, float("nan")], r"lrs\[1\] must be finite"),
        ([0.1, -1.0], r"lrs\[1\] must be > 0"),
        ([0.1, 0.1], "0.1 more than once"),
    ]:
        with pytest.raises((ValueError, TypeError), match=said):
            grid(values, "lrs", above=0)
    with pytest.raises(TypeError, match=r"degrees\[0\] must be an int"):
        grid([2.5], "degrees", integer=True)


def test_every_sweep_refuses_a_value_twice_naming_its_argument():
    key = jax.random.key(0)
    X, y = jnp.ones((8, 2)), jnp.arange(8.0)
    sweeps = [
        (lambda: trials.grid([0.1], [8, 8], [4]), "hiddens"),
        (
            lambda: linear_regression.lr_sweep(
                X, y, [0.1, 0.1], init_key=key, train_key=key, batch_size=4, epochs=1
            ),
            "lrs",
        ),
        (lambda: model_selection.check_degrees([3, 3], 20), "degrees"),
        (lambda: model_selection.decay_sweep(key, [0.0, 0.0], (X, y), (X, y)), "lambdas"),
    ]
    for call, name in sweeps:
        with pytest.raises(ValueError, match=f"{name} holds .* more than once"):
            call()
    # a stack of rates may repeat one (members are indexed, not named)
    tx, state = d2l.with_learning_rates({"w": jnp.zeros(2)}, d2l.sgd, [0.1, 0.1], key)
    assert state.params["w"].shape == (2, 2)
