"""The claims module: its statistics, its exact equivalences (claims 2 and 7) as oracle
tests, calibration on a constructed example, and every claim's quick mode."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import jensenshannon

from jaxd2l.chapters import claims
from jaxd2l.chapters.claims import decide, regression, two_class, verdicts
from jaxd2l.chapters.claims.report import markdown, write_report
from jaxd2l.chapters.claims.sweeps import (
    Budget,
    Images,
    check_budget,
    first_reaching,
    reaching,
)
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.nn.losses import brier_loss, jensen_shannon_loss, squared_loss
from jaxd2l.nn.metrics import expected_calibration_error, reliability


def fake_images(num_train=1200, num_test=400, seed=0):
    """Fashion-MNIST-shaped images whose class lights up two rows: learnable in an epoch."""
    rng = np.random.default_rng(seed)
    parts = []
    for n in (num_train, num_test):
        y = rng.integers(0, 10, n).astype(np.int32)
        X = rng.integers(0, 60, (n, 28, 28, 1), dtype=np.uint8)
        for c in range(10):
            X[y == c, 2 * c + 2 : 2 * c + 6, 4:24] += 180
        parts.append((jnp.asarray(X), jnp.asarray(y)))
    return Images(*parts)


@pytest.fixture(scope="module")
def images():
    return fake_images()


def test_estimate_is_students_t_interval_and_needs_two_seeds():
    values = [0.81, 0.84, 0.83, 0.80, 0.85]
    e = verdicts.estimate(values)
    low, high = scipy.stats.t.interval(0.95, 4, loc=np.mean(values), scale=scipy.stats.sem(values))
    assert (e.mean, e.low, e.high, e.seeds) == pytest.approx((np.mean(values), low, high, 5))
    assert e.values == tuple(values)  # kept, so a record can be re-derived
    assert verdicts.estimate([0.5, 0.5]).low == verdicts.estimate([0.5, 0.5]).high == 0.5
    for few in ([], [0.003]):  # one seed said "holds" before: an interval needs a spread
        with pytest.raises(ValueError, match="at least 2 seeds"):
            verdicts.estimate(few)


def spread(mean, sd, n=8):
    base = np.linspace(-1, 1, n)
    return verdicts.estimate(mean + sd * base / base.std(ddof=1))


@pytest.mark.parametrize(
    "part, expected",
    [
        (lambda: decide.direction("d", spread(0.02, 0.002), +1), verdicts.HOLDS),
        (lambda: decide.direction("d", spread(0.02, 0.002), -1), verdicts.FAILS),
        (lambda: decide.direction("d", spread(0.001, 0.02), +1), verdicts.INCONCLUSIVE),
        (lambda: decide.direction("d", spread(0.0, 0.002), +1, -0.01), verdicts.HOLDS),
        (lambda: decide.equivalence("e", spread(0.001, 0.004), 0.01), verdicts.HOLDS),
        (lambda: decide.equivalence("e", spread(0.05, 0.004), 0.01), verdicts.FAILS),
        (lambda: decide.equivalence("e", spread(0.009, 0.01), 0.01), verdicts.INCONCLUSIVE),
        (lambda: decide.equivalence("e", spread(float("nan"), 0.0), 0.01), verdicts.INCONCLUSIVE),
        (lambda: decide.exact("x", 1e-7, 1e-6), verdicts.HOLDS),
        (lambda: decide.exact("x", 1e-3, 1e-6), verdicts.FAILS),
        (lambda: decide.exact("x", float("nan"), 1e-6), verdicts.FAILS),
    ],
)
def test_each_part_is_decided_by_its_test(part, expected):
    (decided,) = decide.decide([part()])
    assert decided.verdict == expected
    if expected == verdicts.INCONCLUSIVE and decided.effect.values[0] == decided.effect.values[0]:
        assert decided.seeds_needed and decided.seeds_needed > 8  # more would decide it
        assert "seeds would decide it" in verdicts.describe(decided)


def test_tost_is_statsmodels_and_the_seeds_come_from_a_power_calculation():
    from statsmodels.stats.power import TTestPower
    from statsmodels.stats.weightstats import DescrStatsW

    effect = spread(0.004, 0.01)
    part = decide.equivalence("e", effect, 0.01)
    tost = DescrStatsW(np.asarray(effect.values)).ttost_mean(-0.01, 0.01)[0]
    assert part.p == pytest.approx(tost) and not part.beyond
    n = decide.seeds_for("direction", 0.5, 1.0, 0.0, 0.05)
    power = TTestPower()
    assert power.power(0.5, n, 0.05) >= 0.8 > power.power(0.5, n - 1, 0.05)


def test_holm_corrects_across_the_primary_parts_only():
    from statsmodels.stats.multitest import multipletests

    effect = spread(0.01, 0.01)
    ps = [0.03, 0.04, 0.001]
    parts = [
        verdicts.Part(f"p{i}", "direction", effect, 0.0, +1, True, p=p) for i, p in enumerate(ps)
    ]
    parts.append(verdicts.Part("secondary", "direction", effect, 0.0, +1, False, p=0.03))
    decided = decide.decide(parts)
    reject = multipletests(ps, alpha=0.05, method="holm")[0]
    for part, rejected in zip(decided, reject, strict=False):
        assert (part.verdict == verdicts.HOLDS) == bool(rejected)
    assert [p.verdict for p in decided[:3]] == ["inconclusive", "inconclusive", "holds"]
    assert decided[3].verdict == verdicts.HOLDS  # secondary: its own alpha, not the family


def test_the_one_combination_rule_on_every_mix():
    H, F, I, D = verdicts.HOLDS, verdicts.FAILS, verdicts.INCONCLUSIVE, verdicts.DEPENDS

    def parts(*said, secondary=()):
        out = [verdicts.Part(str(i), "exact", None, 0.0, verdict=v) for i, v in enumerate(said)]
        out += [verdicts.Part("s", "exact", None, 0.0, primary=False, verdict=v) for v in secondary]
        return out

    for n in (1, 2, 3):
        for mix in itertools.product((H, F, I), repeat=n):
            combined = verdicts.combine(parts(*mix))
            if set(mix) == {H}:
                assert combined == H
            elif H in mix and F in mix:
                assert combined == D  # decided in different directions
            elif F in mix:
                assert combined == F  # none holds, one fails: does not hold here
            else:
                assert combined == I
    assert verdicts.combine(parts(I, F)) == F  # claim 1's first pass read "depends"
    assert verdicts.combine(parts(H, H, secondary=(F,))) == H  # secondary parts do not vote


def test_summed_loss_with_lr_over_b_is_the_mean_loss_exactly(key):
    """Claim 2's oracle: sum of losses at lr / B takes the same steps as their mean at lr."""
    settings = {"num_examples": 1000, "epochs": 2, "batch_size": 10}
    mean, _, _ = regression.regression_run(key, squared_loss, 0.0, lr=0.03, **settings)
    summed = lambda y_hat, y: 10 * squared_loss(y_hat, y)  # noqa: E731
    total, _, _ = regression.regression_run(key, summed, 0.0, lr=0.003, **settings)
    for name in ("w", "b"):
        np.testing.assert_allclose(total[name], mean[name], atol=1e-6)
    assert float(jnp.abs(mean["w"] - jnp.asarray([2.0, -3.4])).max()) < 0.05  # it learned


def test_two_class_softmax_is_logistic_regression(images):
    """Claim 7's oracle: the same test probabilities and the same curve, to 1e-5."""
    data = two_class.two_classes(images, pair=(0, 6)).subset(200, 100)
    runs = two_class.compare_two_class(jax.random.split(jax.random.key(1), 2), data, 2, 0.1)
    soft, logi = runs["softmax"], runs["logistic"]
    np.testing.assert_allclose(soft["after"], logi["after"], atol=1e-5)
    np.testing.assert_allclose(soft["test"]["loss"], logi["test"]["loss"], atol=1e-5)
    np.testing.assert_allclose(soft["test"]["acc"], logi["test"]["acc"])
    assert soft["test"]["acc"][:, -1].min() > 0.8  # rows 2-6 vs 14-18: learnable


def test_expected_calibration_error_on_a_constructed_example():
    # ten examples, top class at 0.8: 8 right is calibrated, 5 right is 0.3 overconfident
    probs = jnp.tile(jnp.asarray([[0.8, 0.2]]), (10, 1))
    right = jnp.asarray([0] * 8 + [1] * 2)
    assert float(expected_calibration_error(probs, right)) == pytest.approx(0.0, abs=1e-6)
    half = jnp.asarray([0] * 5 + [1] * 5)
    assert float(expected_calibration_error(probs, half)) == pytest.approx(0.3, abs=1e-6)
    # two bins: 0.55 (all right: under-confident by 0.45) and 0.95 (half right: over by 0.45)
    probs = jnp.asarray([[0.55, 0.45]] * 4 + [[0.95, 0.05]] * 4)
    y = jnp.asarray([0] * 4 + [0, 0, 1, 1])
    bins = reliability(probs, y, num_bins=10)
    assert bins["count"].sum() == 8 and bins["count"][5] == 4 and bins["count"][9] == 4
    assert float(expected_calibration_error(probs, y, 10)) == pytest.approx(0.45, abs=1e-6)


def test_jensen_shannon_and_brier_losses_match_their_definitions():
    logits = jax.random.normal(jax.random.key(3), (6, 4)) * 2
    y = jnp.asarray([0, 1, 2, 3, 0, 1])
    probs = np.asarray(jax.nn.softmax(logits), np.float64)
    onehot = np.eye(4)[np.asarray(y)]
    js = jensenshannon(onehot, probs, axis=1) ** 2  # scipy gives the distance, in nats
    np.testing.assert_allclose(jensen_shannon_loss(logits, y), js, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(brier_loss(logits, y), ((probs - onehot) ** 2).sum(1), rtol=1e-5)
    assert np.isfinite(
        np.asarray(jax.grad(lambda z: jensen_shannon_loss(z, y).sum())(logits))
    ).all()


def test_first_reaching_counts_from_one_and_censors():
    curves = np.asarray([[0.1, 0.5, 0.9], [0.1, 0.2, 0.3]])
    assert first_reaching(curves, 0.5).tolist() == [2, 4]


def test_reaching_says_when_no_seed_got_there_instead_of_a_censored_interval():
    curves = np.array([[0.1, 0.6, 0.7], [0.2, 0.3, 0.4], [0.5, 0.5, 0.9]])
    got = reaching(curves, 0.55, "x")
    assert got["x: share of seeds reaching 0.55"].mean == pytest.approx(2 / 3)
    assert got["x: epochs to 0.55 (seeds that reached it)"].values == (2, 3)
    never = reaching(curves, 0.95, "x")
    assert list(never) == ["x: share of seeds reaching 0.95"] and never[list(never)[0]].mean == 0


def test_budget_needs_two_seeds():
    with pytest.raises(ValueError, match="seeds must be >= 2"):
        check_budget(Budget(seeds=1))


def test_rise_and_fall_refuses_a_pool_too_small():
    with pytest.raises(ArgumentError, match="needs 1000 training images"):
        claims.CLAIMS["rise_and_fall"](Budget(2, quick=True), fake_images(300, 100))


FAST = {"sum_vs_mean", "logistic", "soft_labels"}


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in claims.CLAIMS],
)
def test_each_claims_quick_mode_runs(name, images, tmp_path):
    result = claims.CLAIMS[name](Budget(seeds=2, quick=True), images)
    assert result.name == name and result.number == list(claims.CLAIMS).index(name) + 1
    assert result.verdict in verdicts.VERDICTS and result.parts
    assert result.measured and all(e.seeds == 2 for e in result.measured.values())
    assert result.rule and result.reason and result.setting
    figures = write_report([result], str(tmp_path))
    assert (tmp_path / figures[name]).stat().st_size > 1000
    text = (tmp_path / "claims.md").read_text()
    assert f"| {result.number} |" in text and result.verdict in text
    assert markdown([result]).count("\n| ") >= len(result.measured)
