"""The course note's claims, tested: every answer it gives its readers (and its MLP
exercises), measured over seeds against a plan written before the run.

    python -m experiments.claims [--claim NAME ...] [--seeds N] [--quick] [--seed 0]
        [--data-dir PATH] [--out DIR]

--claim takes a comma list of names (default: all twelve, in the note's order, then the
second pass's): squared_vs_absolute, sum_vs_mean, learning_rate, batch_size, remainder,
soft_labels, logistic, cross_entropy, rise_and_fall, pretraining, tuning, regularisation. The plan
(experiments/claims_plan.toml) sets each claim's seeds (a power calculation on a pilot)
and every part's test; a claim whose parts differ from it is refused, and the report cites
its sha256. The verdicts: holds, does not hold here, inconclusive (with the seeds that
would decide), depends; Holm's correction across the run's primary parts. --seeds N
overrides the plan's seeds (said in the record). --quick: small data, few epochs, two
seeds: a smoke run, labelled as such everywhere, whose verdicts mean nothing. Writes
DIR/claims.json, claims.md, one figure per claim, metrics.json and TensorBoard tables of
every claim's seeds (default DIR runs/claims).
"""

from __future__ import annotations

import dataclasses
import os
import time

from jaxd2l.chapters.claims import CLAIMS, NEEDS_IMAGES, Budget, Images
from jaxd2l.chapters.claims.plan import check_against_plan, load_plan, seeds_of
from jaxd2l.chapters.claims.report import SMOKE, write_report
from jaxd2l.chapters.claims.result import decide_all
from jaxd2l.chapters.claims.sweeps import check_budget
from jaxd2l.cli import DataFlags, Run, flag, run_cli
from jaxd2l.cli.record import write_json
from jaxd2l.data import fashion_mnist as fm

PLAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "claims_plan.toml")


@dataclasses.dataclass(frozen=True)
class Config(DataFlags):
    claim: tuple[str, ...] = flag(tuple(CLAIMS), "claims to run, by name", choices=tuple(CLAIMS))
    seeds: int | None = flag(
        None, "seeds per claim (default: the plan's; 2 with --quick)", min=2, max=64
    )
    quick: bool = flag(False, "small data and few epochs: a smoke run, its verdicts meaningless")
    seed: int = flag(
        0, "root seed: seed i of every sweep is split(key(seed), seeds)[i]", min=0, max=2**31 - 1
    )


def seed_table(result) -> tuple[list[dict], tuple, tuple]:
    """A claim's per-seed values as rows (seed, then every measured quantity)."""
    per_seed = {k: e.values for k, e in result.measured.items() if len(e.values) > 1}
    n = max((len(v) for v in per_seed.values()), default=0)
    rows = [{"seed": i, **{k: v[i] for k, v in per_seed.items() if len(v) == n}} for i in range(n)]
    return rows, ("seed",), tuple(k for k, v in per_seed.items() if len(v) == n)


def main(config: Config) -> dict:
    plan = load_plan(PLAN)
    seeds = {n: config.seeds or (2 if config.quick else seeds_of(plan, n)) for n in config.claim}
    tag = "[smoke run] " if config.quick else ""
    with Run("claims", config) as run:
        images = None
        if NEEDS_IMAGES & set(config.claim):
            images = Images(*fm.load_train_test(data_dir=config.data_dir, on_device=True))
        results, seconds = [], {}
        for name in config.claim:
            t0 = time.perf_counter()
            result = CLAIMS[name](
                check_budget(Budget(seeds[name], config.quick, config.seed)), images
            )
            check_against_plan(result, plan, subset=config.quick)  # the plan's rules, or none
            seconds[name] = time.perf_counter() - t0
            results.append(result)
            said = f"{result.verdict} within the claim (Holm across the report follows)"
            print(
                f"{tag}claim {result.number:2d} {name} ({seconds[name]:.1f} s): {said}", flush=True
            )
            run.record["claims"] = [r.to_json() for r in results]  # kept if a later one fails
            run.write()
            run.hparams(*seed_table(result), group=name)  # TensorBoard: one row a seed
        results = decide_all(results, plan["alpha"])  # Holm across every primary part
        for r in results:
            print(f"{tag}claim {r.number:2d} {r.name}, Holm across the report: {r.verdict}")
        run.record["claims"] = [r.to_json() for r in results]
        run.record["timing"]["claim_s"] = seconds
        cited = {"path": "experiments/claims_plan.toml", "sha256": plan["sha256"]}
        verdicts = {r.name: r.verdict for r in results}
        if run.primary:
            write_report(results, run.out, plan=cited, smoke=config.quick)
            record = {
                "plan": cited,
                "seeds": seeds,
                "quick": config.quick,
                "claims": run.record["claims"],
            }
            write_json(run.file("claims.json"), record)
        final = {"verdicts": verdicts, "seeds": seeds, "quick": config.quick, "plan": cited}
        held = sum(v == "holds" for v in verdicts.values())
        said = f"claims: {held} of {len(results)} hold as the note says"
        return run.finish(final, f"{SMOKE}. {said}" if config.quick else said)


if __name__ == "__main__":
    run_cli(main, Config)
