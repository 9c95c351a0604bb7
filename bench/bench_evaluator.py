"""Throughput of the hand evaluator and of hand isomorphism indexing, inside numba kernels.

Run: ``.venv/bin/python bench/bench_evaluator.py [--hands N] [--repeats R]``

* ``rank7``: :func:`holdemd.cards.rank7_codes` called from a numba loop over a pre-generated
  int8[n, 7] array of random 7-card hands (generation is not timed; the sum of the values is
  kept so the loop cannot be optimised away).
* Reference, measured in the same run on the same hands: a naive in-kernel evaluator that
  scores each of the 21 five-card subsets with a direct 5-card evaluator (sort the ranks, test
  flush and straight, classify the rank pattern) and keeps the best. It is what one writes
  without lookup tables (allocation-free, so the comparison is fair), and the ratio is what
  the tables buy. Both evaluators must agree on
  the winner of every pair of consecutive hands; the script checks that on a sample.
* For scale, the PH Evaluator (C) does ~56M/s on a machine like this one (REFERENCE.md);
  that figure is quoted, not measured here.
* Isomorphism: :func:`holdemd.cards.index_hand` per street on random hands, and
  :func:`holdemd.cards.unindex_into` on random indices.

Best of ``--repeats`` timings is reported (the machine is shared; the best is the least
disturbed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from holdemd.cards import (
    BOARD_SIZES,
    STREET_NAMES,
    index_cards,
    num_indices,
    rank7_codes,
    unindex_into,
)
from holdemd.jit import kernel

# Run as a script from anywhere: the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.hands import random_hands, sum_rank7

PH_EVALUATOR_RATE = 56e6  # REFERENCE.md: PH Evaluator (C), 7 cards, random hands, one core


@kernel
def _sort2(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a >= b else (b, a)


@kernel
def naive_rank5(c0: int, c1: int, c2: int, c3: int, c4: int) -> int:
    """Strength of 5 cards without tables: category * 13**5 + tie-break ranks in base 13.

    Sort the ranks (a 9-comparator network), then read the category off which neighbours
    are equal; flush and straight are tested directly. No allocation.
    """
    r0, r1, r2, r3, r4 = c0 >> 2, c1 >> 2, c2 >> 2, c3 >> 2, c4 >> 2
    r0, r1 = _sort2(r0, r1)
    r3, r4 = _sort2(r3, r4)
    r2, r4 = _sort2(r2, r4)
    r2, r3 = _sort2(r2, r3)
    r1, r4 = _sort2(r1, r4)
    r0, r3 = _sort2(r0, r3)
    r0, r2 = _sort2(r0, r2)
    r1, r3 = _sort2(r1, r3)
    r1, r2 = _sort2(r1, r2)
    s = c0 & 3
    flush = (c1 & 3) == s and (c2 & 3) == s and (c3 & 3) == s and (c4 & 3) == s
    e01, e12, e23, e34 = r0 == r1, r1 == r2, r2 == r3, r3 == r4
    b = 371293  # 13**5
    if e01 and e12 and e23:
        return 7 * b + r0 * 13 + r4
    if e12 and e23 and e34:
        return 7 * b + r1 * 13 + r0
    if e01 and e12 and e34:
        return 6 * b + r0 * 13 + r3
    if e01 and e23 and e34:
        return 6 * b + r2 * 13 + r0
    if e01 and e12:
        return 3 * b + (r0 * 13 + r3) * 13 + r4
    if e12 and e23:
        return 3 * b + (r1 * 13 + r0) * 13 + r4
    if e23 and e34:
        return 3 * b + (r2 * 13 + r0) * 13 + r1
    if e01 and e23:
        return 2 * b + (r0 * 13 + r2) * 13 + r4
    if e01 and e34:
        return 2 * b + (r0 * 13 + r3) * 13 + r2
    if e12 and e34:
        return 2 * b + (r1 * 13 + r3) * 13 + r0
    if e01:
        return b + ((r0 * 13 + r2) * 13 + r3) * 13 + r4
    if e12:
        return b + ((r1 * 13 + r0) * 13 + r3) * 13 + r4
    if e23:
        return b + ((r2 * 13 + r0) * 13 + r1) * 13 + r4
    if e34:
        return b + ((r3 * 13 + r0) * 13 + r1) * 13 + r2
    top = -1
    if r0 - r4 == 4:
        top = r0
    elif r0 == 12 and r1 == 3:  # A-5-4-3-2
        top = 3
    if top >= 0:
        return (8 if flush else 4) * b + top
    high = (((r0 * 13 + r1) * 13 + r2) * 13 + r3) * 13 + r4
    return (5 if flush else 0) * b + high


# The 21 five-card subsets of seven cards, as column indices.
SUBSETS = np.array(
    [[j for j in range(7) if j not in (a, b)] for a in range(7) for b in range(a + 1, 7)],
    dtype=np.int64,
)


@kernel
def naive_rank7(h: np.ndarray) -> int:
    """Best naive_rank5 over the 21 five-card subsets of 7 cards."""
    best = 0
    for i in range(21):
        s = SUBSETS[i]
        best = max(best, naive_rank5(h[s[0]], h[s[1]], h[s[2]], h[s[3]], h[s[4]]))
    return best


@kernel
def sum_naive7(hands: np.ndarray) -> int:
    total = 0
    for i in range(hands.shape[0]):
        total += naive_rank7(hands[i]) & 0xFFFF  # keep the sum small; forces evaluation
    return total


@kernel
def disagreements(hands: np.ndarray) -> int:
    """Pairs of consecutive hands that the two evaluators order differently."""
    bad = 0
    for i in range(hands.shape[0] - 1):
        a, b = hands[i], hands[i + 1]
        fast = np.sign(
            rank7_codes(a[0], a[1], a[2], a[3], a[4], a[5], a[6])
            - rank7_codes(b[0], b[1], b[2], b[3], b[4], b[5], b[6])
        )
        slow = np.sign(naive_rank7(a) - naive_rank7(b))
        bad += fast != slow
    return bad


@kernel
def sum_index(street: int, hands: np.ndarray) -> int:
    total = 0
    for i in range(hands.shape[0]):
        total += index_cards(street, hands[i])
    return total


@kernel
def sum_unindex(street: int, indices: np.ndarray) -> int:
    out = np.zeros(2 + (street + 2 if street > 0 else 0), dtype=np.int64)
    total = 0
    for i in range(indices.size):
        unindex_into(street, indices[i], out)
        total += out[0]
    return total


def best_rate(fn: Callable[[], object], n: int, repeats: int) -> float:
    """Items per second of ``fn`` (which processes ``n`` items), best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=20_000_000, help="random 7-card hands")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    n = args.hands
    naive_n = max(n // 10, 1000)  # the naive evaluator is some 10-30x slower

    t0 = time.perf_counter()
    hands = random_hands(n, 7, args.seed)
    small = hands[:1000]
    sum_rank7(small)
    sum_naive7(small)
    disagreements(small)  # compile / load all kernels before timing
    print(f"setup (generation + compile/cache load): {time.perf_counter() - t0:.1f} s")

    bad = disagreements(hands[: min(n, 200_000)])
    if bad:
        raise SystemExit(f"evaluators disagree on {bad} hand pairs")
    fast = best_rate(lambda: sum_rank7(hands), n, args.repeats)
    naive = best_rate(lambda: sum_naive7(hands[:naive_n]), naive_n, args.repeats)
    print(f"rank7_codes, random 7-card hands : {fast / 1e6:8.1f} M evals/s  ({n:,} hands)")
    print(f"naive 21-subset evaluator (ref)  : {naive / 1e6:8.1f} M evals/s  ({naive_n:,} hands)")
    print(f"speed-up over the naive evaluator: {fast / naive:8.1f} x")
    print(
        f"vs PH Evaluator's ~56M/s (quoted from REFERENCE.md, not measured): "
        f"{fast / PH_EVALUATOR_RATE:.1f} x"
    )

    m = min(n, 5_000_000)
    for street in range(4):
        width = 2 + BOARD_SIZES[street]
        cards = random_hands(m, width, args.seed + street)
        sum_index(street, cards[:10])
        rate = best_rate(partial(sum_index, street, cards), m, 3)
        idx = np.random.default_rng(street).integers(0, num_indices(street), m // 5)
        sum_unindex(street, idx[:10])
        unrate = best_rate(partial(sum_unindex, street, idx), idx.size, 3)
        print(
            f"isomorphism {STREET_NAMES[street]:>7}: index {rate / 1e6:6.1f} M hands/s, "
            f"unindex {unrate / 1e6:6.1f} M/s"
        )


if __name__ == "__main__":
    main()
