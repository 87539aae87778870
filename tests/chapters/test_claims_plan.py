"""The claims' plan is checkable: every claim and part the code runs is in it, a rule that
differs is refused, its seeds follow from its pilot numbers, and the recorded report's
verdicts follow from its recorded parts and the plan."""

import hashlib
import json
import pathlib

import pytest

from jaxd2l.chapters import claims
from jaxd2l.chapters.claims.decide import seeds_for
from jaxd2l.chapters.claims.plan import check_against_plan, load_plan, planned
from jaxd2l.chapters.claims.result import ClaimResult, decide_all
from jaxd2l.checks.errors import UserError

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAN = ROOT / "experiments" / "claims_plan.toml"
RECORD = ROOT / "results" / "claims.json"


@pytest.fixture(scope="module")
def plan():
    return load_plan(str(PLAN))


def test_the_plan_names_every_claim_with_its_words_endpoint_and_parts(plan):
    assert list(plan["claims"]) == list(claims.CLAIMS)
    assert plan["sha256"] == hashlib.sha256(PLAN.read_bytes()).hexdigest()
    for name, entry in plan["claims"].items():
        assert entry["note_en"] and entry["primary_endpoint"] and entry["setting"], name
        assert entry["answers"], name  # what this pass fixed, or left and why
        assert any(p["primary"] for p in entry["part"]), name
        assert 2 <= entry["seeds"] <= plan["max_seeds"], name


def test_the_plans_seeds_follow_from_its_pilot(plan):
    family = sum(p["primary"] and p["test"] != "exact" for e in plan["claim"] for p in e["part"])
    alpha = plan["alpha"] / family  # Holm's worst case: the first of the family
    for entry in plan["claim"]:
        needs = []
        for part in entry["part"]:
            if "pilot_sd" in part and part["primary"]:
                n = seeds_for(
                    part["test"], part["pilot_mean"], part["pilot_sd"], part["target"], alpha
                )
                assert n == part.get("seeds_needed"), (entry["name"], part["name"])
                needs += [n] if n else []
        equivalence = any(p["test"] == "equivalence" and p["primary"] for p in entry["part"])
        floor = 20 if equivalence else 5
        assert entry["seeds"] == min(plan["max_seeds"], max([floor, *needs])), entry["name"]


def test_a_rule_that_differs_from_the_plan_is_refused(plan):
    part = plan["claims"]["remainder"]["part"][0]
    name, test, margin, _, primary = planned(part)
    from jaxd2l.chapters.claims.decide import equivalence
    from jaxd2l.chapters.claims.verdicts import estimate

    effect = estimate([0.001, 0.002, -0.001])
    ok = equivalence(name, effect, margin, primary)
    other = plan["claims"]["remainder"]["part"][1]
    second = equivalence(other["name"], effect, other["target"])
    result = ClaimResult(5, "remainder", "", "", "", {}, "", "", {}, {}, (ok, second))
    check_against_plan(result, plan)
    wider = result._replace(parts=(equivalence(name, effect, margin * 3), second))
    with pytest.raises(UserError, match="rules differ from the plan"):
        check_against_plan(wider, plan)
    check_against_plan(result._replace(parts=(ok,)), plan, subset=True)  # a smoke run


@pytest.mark.skipif(not RECORD.exists(), reason="no results/claims.json")
def test_every_recorded_verdict_follows_from_the_recorded_parts_and_the_plan(plan):
    payload = json.loads(RECORD.read_text())
    record = payload["record"]
    assert record["final"]["plan"]["sha256"] == plan["sha256"]  # made with this plan
    recorded = [ClaimResult.from_json(c) for c in record["claims"]]
    for r in recorded:
        check_against_plan(r, plan)
    again = decide_all(recorded, plan["alpha"])
    for before, after in zip(recorded, again, strict=True):
        assert after.verdict == before.verdict, before.name
        assert [p.verdict for p in after.parts] == [p.verdict for p in before.parts]
    assert record["final"]["verdicts"] == {r.name: r.verdict for r in again}


EDITS = {  # a wrong plan -> what the refusal names: the key and the value
    "no seeds": ("\nseeds = 24", "\nseeds = 0", r"\['claim'\]\[0\]\['seeds'\]: 0 is less than"),
    "seeds as text": ("\nseeds = 24", '\nseeds = "24"', r"\['seeds'\]: '24' is not of type"),
    "an unknown test": ('test = "equivalence"', 'test = "equivalent"', "'equivalent' is not one"),
    "a misspelt key": ("primary = true", "primry = true", r"\['part'\]\[0\]: 'primary' is a"),
    "a name twice": (
        '"sum_vs_mean"',
        '"squared_vs_absolute"',
        "name 'squared_vs_absolute' appears",
    ),
    "alpha as a percent": ("alpha = 0.05", "alpha = 5", r"\['alpha'\]: 5 is greater than"),
}


@pytest.mark.parametrize("case", sorted(EDITS))
def test_the_plan_file_is_read_against_its_schema(case, tmp_path):
    # issue 39: a plan with `seeds = 0` ran and returned 0 seeds
    old, new, said = EDITS[case]
    text = PLAN.read_text()
    assert old in text
    bad = tmp_path / "plan.toml"
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(UserError, match=f"^the claims plan {bad}: .*{said}"):
        load_plan(str(bad))


def test_a_claim_the_plan_lacks_is_named_with_the_ones_it_has(plan):
    from jaxd2l.chapters.claims.plan import seeds_of

    with pytest.raises(UserError, match="no claim 'sum_vs_means': it has batch_size, "):
        seeds_of(plan, "sum_vs_means")
