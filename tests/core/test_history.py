"""jaxd2l.core.history: a run's history as arrays, and the divergence rule every driver
applies, on its own."""

import math

import numpy as np
import pytest

from jaxd2l.core import history
from jaxd2l.core.history import DivergedError, breaks_rule, check_curve, diverged_runs


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


def test_one_curve_raises_at_its_first_broken_epoch_with_its_own_factor():
    check_curve([3.0, 2.0], 1.0, 10.0)  # every loss <= 10 x 1
    with pytest.raises(DivergedError) as e:
        check_curve([3.0, 25.0, math.nan], 1.0, 10.0, start=4, what="layer 1", fix="lower it")
    assert e.value.epoch == 6 and e.value.loss == 25.0 and e.value.factor == 10.0
    said = str(e.value)
    assert said.startswith("layer 1: training diverged at epoch 6: the training loss is 25")
    assert "at most 10x" in said and "the epoch before: 3" in said and said.endswith("lower it")
    with pytest.raises(DivergedError, match="at step 1: the training loss is not finite"):
        check_curve([math.inf], None, unit="step")  # no reference: the non-finite half


def test_members_are_named_and_every_one_leads_when_all_broke():
    history.check_members({"a": False, "b": False}, "rates", "fix")
    with pytest.raises(DivergedError, match=r"^1 of 2 rates diverged \(b\): .*; fix$"):
        history.check_members({"a": False, "b": True}, "rates", "fix")
    with pytest.raises(DivergedError, match=r"^every trial diverged \(2 of 2: a, b\)"):
        history.check_members({"a": True, "b": True}, "trials", "fix", every="every trial")


def test_records_and_arrays_round_trip():
    records = [
        {"epoch": 1, "train_loss": 2.0, "train_acc": [0.1, 0.2]},
        {"epoch": 2, "train_loss": 1.0, "train_acc": [0.3, 0.4]},
    ]
    stacked = history.stack(records)
    assert stacked["epoch"].tolist() == [1, 2] and stacked["train_acc"].shape == (2, 2)
    assert history.records(stacked) == records
    sums = {"count": np.float32(4.0), "loss": np.float32(2.0), "acc": np.float32(3.0)}
    assert history.means(sums, "test") == {"test_loss": 0.5, "test_acc": 0.75}


def test_describe_says_which_half_applies():
    assert "above 5x" in history.describe(5.0)
    assert history.describe(None) == "the training loss is not finite"
