"""Lazy against dense tables: training speed of the same config, alternating runs.

Runs the real supervisor and workers on a config twice per round, once with ``solver.tables:
dense`` and once with ``lazy``, alternating (so drifts of the machine's speed fall on both),
and measures iterations/s over a window once every worker runs: the iterations the workers
report (heartbeats), as ``bench_parallel`` does. Prints each run and the ratio lazy/dense of
the summed rates (issue 15's target on HUNL mid: >= 0.85).

Run: .venv/bin/python bench/bench_lazy_tables.py [--config configs/hunl_mid.yaml]
     [--rounds 2] [--window 60] [--warm 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from holdemd.config.binder import apply_overrides
from holdemd.config.loader import load_config
from holdemd.training.run import RunOptions, TrainingRun

ROOT = Path(__file__).resolve().parents[1]


def _computed(run: TrainingRun) -> int:
    return sum(slot.incarnation_iterations for slot in run.slots)


async def _rate(run: TrainingRun, warm: float, window: float) -> float:
    while not all(slot.state == "running" for slot in run.slots):
        await asyncio.sleep(0.1)
    await asyncio.sleep(warm)
    t0, it0 = time.monotonic(), _computed(run)
    await asyncio.sleep(window)
    rate = (_computed(run) - it0) / (time.monotonic() - t0)
    run.request_stop("measured")
    return rate


def measure(config_path: Path, tables: str, workers: int, warm: float, window: float) -> float:
    overrides = {
        "solver.tables": tables,
        "training.iterations": 0,
        "training.time_budget": "10h",  # the window ends it
        "training.snapshot_interval": "10h",
        "training.tensorboard": False,
        "training.quality_interval": None,
        "training.litmus": False,
    }
    config = apply_overrides(load_config(config_path), overrides, source="bench")

    async def main() -> float:
        with tempfile.TemporaryDirectory(prefix="bench-lazy-") as where:
            run = TrainingRun(config, Path(where) / "run", RunOptions(num_workers=workers))
            task = asyncio.create_task(run.run())
            rate = await _rate(run, warm, window)
            await task
            return rate

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "hunl_mid.yaml")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--warm", type=float, default=10.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    totals = {"dense": 0.0, "lazy": 0.0}
    for round_ in range(args.rounds):
        for tables in ("dense", "lazy"):
            rate = measure(args.config, tables, args.workers, args.warm, args.window)
            totals[tables] += rate
            print(f"round {round_ + 1} {tables:5s}: {rate:10,.0f} iterations/s", flush=True)
    print(f"lazy / dense: {totals['lazy'] / totals['dense']:.3f} ({args.config.name})")


if __name__ == "__main__":
    main()
