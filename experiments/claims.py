"""The course note's claims, tested: every answer it gives its readers (and its MLP
exercises), measured over seeds, each with a 95% interval and a verdict.

    python -m experiments.claims [--claim NAME ...] [--seeds 5] [--quick] [--seed 0]
        [--data-dir PATH] [--out DIR]

--claim takes a comma list of names (default: all eleven, in the note's order):
squared_vs_absolute, sum_vs_mean, learning_rate, batch_size, remainder, soft_labels,
logistic, cross_entropy, rise_and_fall, pretraining, tuning. Each claim is one sweep over
seeds (and settings where shapes allow) in one compiled program; its verdict rule is in
`jaxd2l.chapters.claims`, written before the run. --quick: small data, few epochs, two
seeds unless --seeds is given (seconds per claim). Writes DIR/claims.json (every claim's
values, intervals and verdict), claims.md (the table), one figure per claim and
metrics.json (the run's record; default DIR runs/claims). A verdict that goes
against the note says "does not hold here".
"""

from __future__ import annotations

import dataclasses
import time

from jaxd2l.chapters.claims import CLAIMS, NEEDS_IMAGES, Budget, Images
from jaxd2l.chapters.claims.report import write_report
from jaxd2l.chapters.claims.sweeps import check_budget
from jaxd2l.cli import DataFlags, Run, flag, run_cli
from jaxd2l.cli.record import write_json
from jaxd2l.data import fashion_mnist as fm


@dataclasses.dataclass(frozen=True)
class Config(DataFlags):
    claim: tuple[str, ...] = flag(tuple(CLAIMS), "claims to run, by name", choices=tuple(CLAIMS))
    seeds: int | None = flag(None, "seeds per setting (default 5, 2 with --quick)", min=2, max=64)
    quick: bool = flag(False, "small data and few epochs: a smoke run")
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
    seeds = config.seeds or (2 if config.quick else 5)
    budget = check_budget(Budget(seeds, config.quick, config.seed))
    with Run("claims", config) as run:
        images = None
        if NEEDS_IMAGES & set(config.claim):
            images = Images(*fm.load_train_test(data_dir=config.data_dir, on_device=True))
        results, seconds = [], {}
        for name in config.claim:
            t0 = time.perf_counter()
            result = CLAIMS[name](budget, images)
            seconds[name] = time.perf_counter() - t0
            results.append(result)
            print(
                f"claim {result.number:2d} {name}: {result.verdict} ({seconds[name]:.1f} s) -- "
                f"{result.reason}",
                flush=True,
            )
            run.record["claims"] = [r.to_json() for r in results]  # kept if a later one fails
            run.write()
            run.hparams(*seed_table(result), group=name)  # TensorBoard: one row a seed
        run.record["timing"]["claim_s"] = seconds
        verdicts = {r.name: r.verdict for r in results}
        if run.primary:
            write_report(results, run.out)
            write_json(
                run.file("claims.json"),
                {"seeds": seeds, "quick": config.quick, "claims": run.record["claims"]},
            )
        held = sum(v == "holds" for v in verdicts.values())
        final = {"verdicts": verdicts, "seeds": seeds, "quick": config.quick}
        return run.finish(final, f"claims: {held} of {len(results)} hold as the note says")


if __name__ == "__main__":
    run_cli(main, Config)
