"""The supervisor's merge of one worker delta: int32 regrets against float32, in the same run.

A delta of ``--rows`` distinct rows (sorted, as workers send them) x 8 actions is added to a
table of ``--table-rows`` rows with ``tables.add_to_regrets`` (the supervisor's merge): into
float32 regrets without and with a regret floor, and into int32 ones (a numba pass with
stochastic rounding), in alternating rounds so machine noise hits all alike. Prints the median time per merge and the int32/float32 ratio.

Run: .venv/bin/python bench/bench_merge.py [--rows 50000] [--table-rows 2000000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.tables import add_to_regrets

ACTIONS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--table-rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    generator = np.random.default_rng(0)
    rows = np.sort(generator.choice(args.table_rows, args.rows, replace=False)).astype(np.int32)
    delta = (generator.normal(size=(args.rows, ACTIONS)) * 1000).astype(np.float32)
    # (name, table, floor): int32 always clamps (at the floor or the int32 range).
    cases = [
        ("float32", np.zeros((args.table_rows, ACTIONS), np.float32), None),
        ("float32 + floor", np.zeros((args.table_rows, ACTIONS), np.float32), -1e9),
        ("int32", np.zeros((args.table_rows, ACTIONS), np.int32), -1e9),
    ]
    rng = make_rng_state(1)
    add_to_regrets(cases[-1][1], rows, delta, None, rng)  # compile or load the kernel first
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.rounds):
        for name, table, floor in cases:
            start = time.perf_counter()
            add_to_regrets(table, rows, delta, floor, rng)
            times[name].append(time.perf_counter() - start)
    median = {name: float(np.median(values)) for name, values in times.items()}
    print(f"merge of a {args.rows:,}-row delta into a {args.table_rows:,}-row table (median)")
    for name, value in median.items():
        print(f"  {name:16} {value * 1000:7.2f} ms")
    print(f"  int32/float32: {median['int32'] / median['float32']:.2f}x")


if __name__ == "__main__":
    main()
