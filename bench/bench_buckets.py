"""Bucket build times and peak memory per preset, and how close the equity passes are to the
evaluator's raw speed.

Run: ``.venv/bin/python bench/bench_buckets.py [--preset quick|mid|all] [--threads N]``

* Each preset is built in a fresh subprocess (so peak memory is that build's alone) into a
  temporary directory, with a temporary cache (the river table lands there too); the numba
  kernel cache is the usual one, so compile time is excluded once it is warm. Reported: wall
  seconds, the build's own phase times and peak RSS, against the issue's budgets (quick:
  2 minutes; mid: 30 minutes and 8 GB on 2 cores).
* Reference, measured in this run, one thread: ``rank7_codes`` on random 7-card hands in a
  numba loop (the raw evaluator). The river pass (sort + card-removal sweep + index + table
  write per hand) and the turn pass (48 river boards per turn board) are timed on a slice of
  their boards, one thread, as hands per second; the ratio to the raw evaluator says how much
  of the evaluator's speed the equity computation keeps. The 2-thread speed-up of the same
  passes shows how well ``prange`` scales.

Absolute times vary up to 2x between runs on a shared machine; compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numba
import numpy as np

from holdemd import jit
from holdemd.abstraction.boards import canonical_boards
from holdemd.abstraction.equity import NUM_EQUITY_VALUES, RIVER_PAIRS, TURN_PAIRS
from holdemd.abstraction.histograms import turn_pass
from holdemd.abstraction.presets import PRESETS
from holdemd.abstraction.river import river_pass
from holdemd.cards import num_indices
from holdemd.durations import format_bytes, format_duration

# Run as a script from anywhere: the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.hands import random_hands, sum_rank7

MAX_THREADS: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
BUDGET_SECONDS = {"quick": 120.0, "mid": 1800.0}
BUDGET_BYTES = {"mid": 8 * 2**30}

_BUILD = """
import json, sys
from pathlib import Path
from holdemd.abstraction import build_abstraction
a = build_abstraction(sys.argv[1], out=Path(sys.argv[2]), threads=int(sys.argv[3]) or None,
                      progress=False)
print(json.dumps(a.manifest))
"""


def best_seconds(fn: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def kernel_rates() -> None:
    hands = random_hands(5_000_000, 7, 1)
    sum_rank7(hands[:10])
    raw = hands.shape[0] / best_seconds(lambda: sum_rank7(hands))

    river_boards, _ = canonical_boards(5)
    lut = (np.arange(NUM_EQUITY_VALUES) * 50 // NUM_EQUITY_VALUES).astype(np.uint8)
    table = np.zeros(num_indices(3), dtype=np.uint8)
    turn_boards, class_sizes = canonical_boards(4)
    rows = np.zeros((num_indices(2), 49), dtype=np.uint8)
    tally = np.zeros((2, NUM_EQUITY_VALUES), dtype=np.int64)
    river_pass(river_boards, 0, 2, 1, lut, table)
    turn_pass(turn_boards[:1], class_sizes[:1], 50, 1, rows, tally)

    rates: dict[str, dict[int, float]] = {"river": {}, "turn": {}}
    for t in sorted({1, MAX_THREADS}):
        numba.set_num_threads(t)
        lo, hi = 40_000, 40_000 + 4_000 * t
        seconds = best_seconds(partial(river_pass, river_boards, lo, hi, t, lut, table))
        rates["river"][t] = (hi - lo) * RIVER_PAIRS / seconds
        span = slice(5_000, 5_000 + 150 * t)
        sizes = class_sizes[span]
        seconds = best_seconds(partial(turn_pass, turn_boards[span], sizes, 50, t, rows, tally[:t]))
        # Hands evaluated: 48 river boards x 1,081 pairs per turn board.
        rates["turn"][t] = 150 * t * 48 * RIVER_PAIRS / seconds
    numba.set_num_threads(MAX_THREADS)

    print(f"raw evaluator, rank7_codes, 1 thread : {raw / 1e6:7.1f} M hands/s (reference)")
    for name, note in (
        ("river", "rank7 + sort + sweep + index + write"),
        ("turn", f"rank7 + sort + sweep + histogram; {TURN_PAIRS} rows"),
    ):
        one = rates[name][1]
        line = (
            f"{name} pass, 1 thread                : {one / 1e6:7.1f} M hands/s = "
            f"{one / raw:.2f} x the raw evaluator  ({note})"
        )
        print(line)
        for t, rate in rates[name].items():
            if t > 1:
                print(
                    f"{name} pass, {t} threads               : {rate / 1e6:7.1f} M hands/s "
                    f"= {rate / one:.2f} x one thread"
                )


def build_preset(name: str, threads: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-buckets-") as tmp:
        env = dict(os.environ)
        env["XDG_CACHE_HOME"] = tmp
        env.setdefault("NUMBA_CACHE_DIR", str(jit.cache_dir()))
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _BUILD, name, f"{tmp}/{name}.npz", str(threads)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        if result.returncode != 0:
            print(f"{name}: build failed:\n{result.stderr}", file=sys.stderr)
            return
        manifest = json.loads(result.stdout.strip().splitlines()[-1])
        size = os.path.getsize(f"{tmp}/{name}.npz")
    peak = int(manifest["peak_rss_bytes"])
    seconds = float(manifest["build_seconds"])
    budget = BUDGET_SECONDS[name]
    verdict = "within" if seconds <= budget else "OVER"
    print(
        f"{name:>5} {'/'.join(map(str, manifest['counts'])):>15}: build {format_duration(seconds):>7} "
        f"({seconds / budget:.2f} of the {format_duration(budget)} budget: {verdict}), "
        f"process wall {format_duration(wall)}, peak RSS {format_bytes(peak)}"
        + (f" ({peak / BUDGET_BYTES[name]:.2f} of 8 GiB)" if name in BUDGET_BYTES else "")
        + f", bundle {format_bytes(size)}"
    )
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in manifest["phase_seconds"].items())
    print(f"{'':>22}phases: {phases}; {manifest['threads']} threads")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=[*PRESETS, "all"], default="quick")
    parser.add_argument("--threads", type=int, default=0, help="build threads (0 = all cores)")
    parser.add_argument("--no-kernels", action="store_true", help="skip the kernel rates")
    args = parser.parse_args()
    if not args.no_kernels:
        kernel_rates()
    for name in PRESETS if args.preset == "all" else [args.preset]:
        build_preset(name, args.threads)


if __name__ == "__main__":
    main()
