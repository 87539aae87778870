"""jaxd2l.core.divergence: the rule every driver applies, on its own."""

import math

import numpy as np
import pytest

from jaxd2l.core import divergence
from jaxd2l.core.divergence import DivergedError, breaks_rule, check_divergence, diverged_runs


def test_the_rule_non_finite_or_far_above_the_untrained_loss():
    assert breaks_rule(math.nan, 1.0, 100.0) and breaks_rule(math.inf, None, None)
    assert breaks_rule(101.0, 1.0, 100.0) and not breaks_rule(99.0, 1.0, 100.0)
    assert not breaks_rule(1e9, 1.0, None)  # factor None: the non-finite half only
    assert not breaks_rule(1e9, None, 100.0)  # no reference: the non-finite half only
    flags = breaks_rule([1.0, math.nan, 500.0], [1.0, 1.0, 2.0], 100.0)
    assert flags.tolist() == [False, True, True]  # element by element, on arrays too


def test_runs_stacked_over_epochs_are_marked_by_the_same_rule():
    curves = np.array([[2.0, 1.0, 0.5], [2.0, math.inf, 1.0], [2.0, 300.0, 1.0]])
    assert diverged_runs(curves, [2.0, 2.0, 2.0]).tolist() == [False, True, True]
    assert diverged_runs(curves, 2.0, None).tolist() == [False, True, False]  # finite half
    assert diverged_runs(curves[None], 2.0).shape == (1, 3)  # any leading axes


def test_one_run_raises_with_its_own_factor_and_a_stack_is_marked():
    history = [{"epoch": 1, "train_loss": 3.0, "train_first_batch_loss": 1.0}]
    check_divergence(history, 10.0)  # 3 <= 10 x 1
    history.append({"epoch": 2, "train_loss": 25.0})
    with pytest.raises(DivergedError) as e:
        check_divergence(history, 10.0)
    assert e.value.epoch == 2 and e.value.loss == 25.0 and e.value.last_finite == 3.0
    assert "at most 10x" in str(e.value) and "100x" not in str(e.value)
    stack = [{"epoch": 1, "train_loss": [1.0, math.nan], "train_first_batch_loss": [1.0, 1.0]}]
    check_divergence(stack, divergence.FACTOR)  # a stack is never stopped, nor mutated
    assert "train_diverged" not in stack[0]


def test_describe_says_which_half_applies():
    assert "above 5x" in divergence.describe(5.0)
    assert divergence.describe(None) == "the training loss is not finite"
