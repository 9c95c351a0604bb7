"""Kuhn/Leduc at equal iterations: in-process MCCFR, the worker's delta path, and OpenSpiel.

Why does ``holdemd train`` with one worker end less converged than OpenSpiel's C++ external
sampling at 1e5 Kuhn iterations (issue 14)? This runs, for several seeds, in one process:

* ``openspiel``: ``pyspiel.ExternalSamplingMCCFRSolver(game, seed, SIMPLE)``;
* ``inproc-f32`` / ``inproc-f64``: ``ExternalSamplingMCCFR.run`` on float32 / float64 tables;
* ``sync-B``: the worker's delta path with batch B, each batch merged before the next starts
  (the kernel reads tables + the batch's own pending changes: what a one-worker run does in
  deterministic mode);
* ``predict-B``: the delta path as a one-worker run did it before: the batch sent last stays
  in the worker's view after the supervisor merged it, so it counts twice in the current
  strategy (the "predictive regret matching" of worker.py), here always (the merge is fast
  next to a batch), so the run is repeatable.

Each is judged by the exact exploitability of its average strategy (our ``ExactEvaluator``,
which matches OpenSpiel's on the uniform policy). Prints mean, standard error and each seed.

Usage: ``python bench/study_kuhn_delta_path.py [--game kuhn] [--iterations 100000]
[--seeds 20] [--batches 2000,200] [--modes openspiel,inproc-f32,...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from holdemd.games.factory import make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.kernels.table_access import DeltaBuffer
from holdemd.solver.mccfr import ExternalSamplingMCCFR, apply_delta, clear_delta
from holdemd.solver.tables import Tables


def openspiel(game_name: str, iterations: int, seed: int) -> float:
    import pyspiel

    game = pyspiel.load_game(f"{game_name}_poker")
    solver = pyspiel.ExternalSamplingMCCFRSolver(game, seed, pyspiel.MCCFRAverageType.SIMPLE)
    for _ in range(iterations):
        solver.run_iteration()
    return float(pyspiel.exploitability(game, solver.average_policy()))


def in_process(
    game: Any, evaluator: ExactEvaluator, dtype: str, iterations: int, seed: int
) -> float:
    solver = ExternalSamplingMCCFR(game, Tables.zeros(game, dtype), seed=seed)
    solver.run(iterations)
    return float(evaluator.exploitability(solver.average_policy()))


def delta_path(
    game: Any, evaluator: ExactEvaluator, batch: int, predict: bool, iterations: int, seed: int
) -> float:
    """One worker's batches, merged by a supervisor at a fixed point of each batch."""
    tables = Tables.zeros(game, "float32")
    solver = ExternalSamplingMCCFR(game, tables, seed=seed)
    active = solver.new_delta_buffer()
    inflight = solver.new_delta_buffer()
    assert isinstance(active, DeltaBuffer) and isinstance(inflight, DeltaBuffer)
    done = 0
    while done < iterations:
        ran = solver.run_into(active, min(batch, iterations - done), inflight)
        done += ran
        clear_delta(inflight)
        if predict:
            # Sent and merged at once; the worker keeps reading it until its next send.
            for name in ("rows", "regret", "strategy"):
                getattr(inflight, name)[:] = getattr(active, name)
            inflight.slot_of_row[:] = active.slot_of_row
            inflight.used[0] = active.used[0]
        apply_delta(tables, active)
    return float(evaluator.exploitability(solver.average_policy()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--game", default="kuhn", choices=("kuhn", "leduc"))
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=20, help="seeds 1..N")
    parser.add_argument("--batches", default="2000,200")
    parser.add_argument("--modes", default="openspiel,inproc-f32,inproc-f64,sync,predict")
    args = parser.parse_args(argv)
    game = make_game(args.game)
    evaluator = ExactEvaluator(game)
    ExternalSamplingMCCFR(game, Tables.zeros(game), seed=0).run(10)  # compile
    runs: dict[str, Callable[[int], float]] = {}
    for mode in args.modes.split(","):
        if mode == "openspiel":
            runs[mode] = partial(openspiel, args.game, args.iterations)
        elif mode.startswith("inproc-"):
            dtype = {"f32": "float32", "f64": "float64"}[mode.split("-")[1]]
            runs[mode] = partial(in_process, game, evaluator, dtype, args.iterations)
        elif mode in ("sync", "predict"):
            for b in (int(x) for x in args.batches.split(",")):
                runs[f"{mode}-{b}"] = partial(
                    delta_path, game, evaluator, b, mode == "predict", args.iterations
                )
        else:
            parser.error(f"unknown mode {mode}")
    seeds = range(1, args.seeds + 1)
    print(f"{args.game}, {args.iterations:,} iterations, seeds 1..{args.seeds}")
    print(f"{'mode':<14} {'mean':>8} {'s.e.':>8} {'median':>8}  s   first five seeds")
    for name, run in runs.items():
        started = time.perf_counter()
        values = [run(s) for s in seeds]
        se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
        first = " ".join(f"{v:.4f}" for v in values[:5])
        print(
            f"{name:<14} {statistics.mean(values):8.5f} {se:8.5f} "
            f"{statistics.median(values):8.5f} {time.perf_counter() - started:4.0f}  {first}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
