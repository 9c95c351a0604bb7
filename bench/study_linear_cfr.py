"""Leduc: does linear CFR help external-sampling MCCFR? Plain, linear weighting and discounting.

Three ways to weight iterations, on fresh in-place solvers (float64 tables, one process):

* plain: every iteration's regret and strategy-sum changes count 1;
* linear: ``solver.linear_weighting`` (iteration t's changes count t, in the kernel);
* discount: Pluribus's schedule in iterations: at the k-th point (every ``--interval``
  iterations, up to ``--stop``) multiply regrets and strategy sums by k/(k+1), as the
  supervisor does for ``schedule.discount_interval``.

Each is run on ``--seeds`` seeds and exactly evaluated at the checkpoints; the output is the mean
exploitability with its standard error, and each variant's ratio to plain at the same
checkpoint (below 1: it helps). This is a convergence study, not a timing: the numbers do not
depend on the machine.

Run: ``python -m bench.study_linear_cfr [--seeds 24] [--checkpoints 10000,20000,...]``
"""

from __future__ import annotations

import argparse

import numpy as np

from holdemd.games.factory import make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

VARIANTS = ("plain", "linear", "discount")


def exploitability_curve(
    variant: str, seed: int, checkpoints: list[int], interval: int, stop: int
) -> list[float]:
    game = make_game("leduc")
    evaluator = ExactEvaluator(game)
    tables = Tables.zeros(game, "float64")
    solver = ExternalSamplingMCCFR(game, tables, seed=seed, linear=variant == "linear")
    done, curve = 0, []
    for checkpoint in checkpoints:
        while done < checkpoint:
            step = checkpoint - done
            if variant == "discount":
                step = min(step, interval - done % interval)
            solver.run(step)
            done += step
            if variant == "discount" and done % interval == 0 and done <= stop:
                k = done // interval
                tables.regret *= k / (k + 1)
                tables.strategy_sum *= k / (k + 1)
        curve.append(evaluator.exploitability(solver.average_policy()))
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--checkpoints", default="10000,20000,50000,100000,200000")
    parser.add_argument("--interval", type=int, default=10_000, help="discount every N its")
    parser.add_argument("--stop", type=int, default=100_000, help="no discount after N its")
    args = parser.parse_args()
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    print(
        f"Leduc, external-sampling MCCFR in place, {args.seeds} seeds; discount every "
        f"{args.interval:,} iterations up to {args.stop:,}"
    )
    print("iterations".ljust(10) + "".join(f"{c:>22,}" for c in checkpoints))
    means = {}
    for variant in VARIANTS:
        runs = np.array(
            [
                exploitability_curve(variant, seed, checkpoints, args.interval, args.stop)
                for seed in range(1, args.seeds + 1)
            ]
        )
        means[variant] = runs.mean(axis=0)
        errors = runs.std(axis=0, ddof=1) / np.sqrt(args.seeds)
        cells = "".join(
            f"{m:>13.4f} ± {e:.4f}" for m, e in zip(means[variant], errors, strict=True)
        )
        print(variant.ljust(10) + cells, flush=True)
    for variant in VARIANTS[1:]:
        ratios = means[variant] / means["plain"]
        print(f"{variant}/plain".ljust(10) + "".join(f"{r:>22.3f}" for r in ratios))


if __name__ == "__main__":
    main()
