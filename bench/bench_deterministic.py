"""What repeatable runs cost: iterations/s with and without lockstep batches.

* one worker: lockstep (the default since issue 14: each batch waits for its merge, so a run
  with a seed is bit-for-bit repeatable) against the earlier pipelined worker (the next batch
  computed while the last one is merged), switched back on here for the measurement only;
* several workers: ``training.deterministic`` (batches in rounds, merged in slot order)
  against the default asynchronous merges.

Real supervisor and worker processes, as ``bench_parallel.py``; the two settings alternate
``--repeats`` times per game so that machine noise hits both; medians are printed.

Run: .venv/bin/python bench/bench_deterministic.py [--window 6] [--repeats 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import statistics
from pathlib import Path
from typing import Any

import bench_parallel

from holdemd.config.binder import apply_overrides
from holdemd.config.loader import load_config
from holdemd.training import run as run_module

ROOT = Path(__file__).resolve().parents[1]
_spec = run_module.worker_spec


def _pipelined_spec(*args: Any, **kwargs: Any) -> Any:
    return dataclasses.replace(_spec(*args, **kwargs), lockstep=False)


def rate(config: Any, workers: int, *, lockstep: bool, warm: float, window: float) -> float:
    run_module.worker_spec = _spec if lockstep else _pipelined_spec
    try:
        return bench_parallel.run(config, workers, warm, window).iterations_per_s
    finally:
        run_module.worker_spec = _spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=6.0)
    parser.add_argument("--warm", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--games", default="kuhn,leduc,hunl_quick")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(
        f"{'game':12}{'workers':>8}{'batch':>7}{'default it/s':>15}{'lockstep it/s':>15}{'cost':>8}"
    )
    for name in args.games.split(","):
        base = load_config(ROOT / "configs" / f"{name}.yaml")
        for workers in (1, args.workers):
            free, locked = [], []
            for _ in range(args.repeats):
                if workers == 1:
                    free.append(rate(base, 1, lockstep=False, warm=args.warm, window=args.window))
                    locked.append(rate(base, 1, lockstep=True, warm=args.warm, window=args.window))
                else:
                    det = apply_overrides(base, {"training.deterministic": True}, source="bench")
                    free.append(
                        rate(base, workers, lockstep=True, warm=args.warm, window=args.window)
                    )
                    locked.append(
                        rate(det, workers, lockstep=True, warm=args.warm, window=args.window)
                    )
            a, b = statistics.median(free), statistics.median(locked)
            print(
                f"{name:12}{workers:>8}{base.training.batch_size:>7,}{a:>15,.0f}{b:>15,.0f}"
                f"{100 * (1 - b / a):>7.1f}%   runs {[round(x) for x in free]} {[round(x) for x in locked]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
