"""The supervisor's merge of one worker delta: int32 regrets against float32, in the same run.

A delta of ``--rows`` distinct rows (sorted, as workers send them) x 8 actions is added to a
table of ``--table-rows`` rows with ``tables.merge_rows`` (the supervisor's merge of both tables): into
float32 regrets without and with a regret floor, and into int32 ones (a numba pass with
stochastic rounding), in alternating rounds so machine noise hits all alike. Prints the median time per merge and the int32/float32 ratio.

With ``--sweep-rows N`` it also times a linear-CFR discount of an N-row int32 regret table and
float32 strategy-sum table (10 actions): one whole-table pass, as the supervisor once did it on
its event loop, against the time-sliced pass it does now (``daemon/table_sweeps.py``): the
longest slice is how long a merge or a heartbeat may wait.

Run: .venv/bin/python bench/bench_merge.py [--rows 50000] [--table-rows 2000000] [--rounds 30]
     [--sweep-rows 12000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.tables import Tables, merge_rows, scale_rows
from holdemd.training.sweeps import TableSweeps

ACTIONS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--table-rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sweep-rows", type=int, default=0, help="also time a discount")
    args = parser.parse_args()
    generator = np.random.default_rng(0)
    rows = np.sort(generator.choice(args.table_rows, args.rows, replace=False)).astype(np.int32)
    delta = (generator.normal(size=(args.rows, ACTIONS)) * 1000).astype(np.float32)

    # (name, table, floor): int32 always clamps (at the floor or the int32 range).
    def tables(regret_dtype: type) -> Tables:
        shape = (args.table_rows, ACTIONS)
        return Tables(np.zeros(shape, regret_dtype), np.zeros(shape, np.float32))

    cases = [
        ("float32", tables(np.float32), None),
        ("float32 + floor", tables(np.float32), -1e9),
        ("int32", tables(np.int32), -1e9),
    ]
    strategy = np.abs(delta)
    rng = make_rng_state(1)
    merge_rows(cases[-1][1], rows, delta, strategy, None, rng)  # compile or load the kernel
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.rounds):
        for name, table, floor in cases:
            start = time.perf_counter()
            merge_rows(table, rows, delta, strategy, floor, rng)
            times[name].append(time.perf_counter() - start)
    median = {name: float(np.median(values)) for name, values in times.items()}
    print(f"merge of a {args.rows:,}-row delta into a {args.table_rows:,}-row table (median)")
    for name, value in median.items():
        print(f"  {name:16} {value * 1000:7.2f} ms")
    print(f"  int32/float32: {median['int32'] / median['float32']:.2f}x")
    if args.sweep_rows:
        time_discount(args.sweep_rows)


def time_discount(rows: int) -> None:
    regret = np.ones((rows, 10), np.int32)
    strategy_sum = np.ones((rows, 10), np.float32)
    start = time.perf_counter()
    scale_rows(regret, 0, rows, 0.9)
    scale_rows(strategy_sum, 0, rows, 0.9)
    whole = time.perf_counter() - start

    def discount(lo: int, hi: int) -> None:
        scale_rows(regret, lo, hi, 0.9)
        scale_rows(strategy_sum, lo, hi, 0.9)

    sweeps = TableSweeps(rows)
    sweeps.add(discount)
    slices: list[float] = []
    start = time.perf_counter()
    while sweeps.busy:
        began = time.perf_counter()
        sweeps.step(0.005)
        slices.append(time.perf_counter() - began)
    total = time.perf_counter() - start
    size = (regret.nbytes + strategy_sum.nbytes) / 1e9
    print(f"discount of {size:.2f} GB of tables (int32 regrets, float32 sums)")
    print(f"  whole table at once: {whole * 1000:8.1f} ms blocked")
    print(
        f"  in slices:           {len(slices)} steps, longest {max(slices) * 1000:.1f} ms, "
        f"{total * 1000:.0f} ms in all"
    )
    print(f"  longest slice / whole-table block: {max(slices) / whole:.4f}")


if __name__ == "__main__":
    main()
