"""The tables hand isomorphism reads: suit patterns and configurations, built at import.

The method follows the idea of Waugh, "A Fast and Optimal Hand Isomorphism Algorithm" (2013);
the code is our own. For each suit, the ranks it holds in the hole and on the board form a
*suit pattern*; the suit's shape ``(m0, m1)`` (hole cards, board cards of that suit) and the
two rank sets are ranked as one number: the colex rank of the hole set among 13 ranks, times
``C(13 - m0, m1)``, plus the colex rank of the board set among the ranks left free by the hole.
A hand is its multiset of suit patterns. Sorting the four suits by (shape, pattern rank) gives
the canonical suit order; the sorted shapes are the hand's *configuration*, which owns a
contiguous block of indices (``CFG_OFFSET``). Inside the block, suits of equal shape are
interchangeable, so each run of equal shapes is ranked as a multiset (combinations with
repetition) and the runs are combined in mixed radix.

The kernels of :mod:`holdemd.cards.isomorphism` index and un-index with these tables, so both
directions read the same ones and stay exact inverses (tests/cards checks every flop class
both ways). The tables are a pure function of the constants here (milliseconds to build).
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

from holdemd.cards.streets import BOARD_SIZES, HOLE_SIZE, PREFLOP

SHAPES = 18  # shape code m0 * 6 + m1, m0 in 0..2 hole cards, m1 in 0..5 board cards


def _build_bit_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Popcount, colex rank and colex unrank of 13-bit rank sets.

    Returns
    -------
    popcount : int64[8192]
    colex : int64[8192]
        Rank of a set among the sets of its size, colex order: ``sum C(b_j, j + 1)`` over its
        bits ``b_0 < b_1 < ...``. The first ``C(n, k)`` sets of size ``k`` are exactly those
        inside the lowest ``n`` ranks, which is what makes the board rank "among free ranks".
    uncolex : int64[6, 1287]
        ``uncolex[k, r]`` is the set of size ``k`` with colex rank ``r`` (sizes up to 5).
    """
    popcount = np.zeros(8192, dtype=np.int64)
    colex = np.zeros(8192, dtype=np.int64)
    uncolex = np.zeros((6, comb(13, 5)), dtype=np.int64)
    for mask in range(8192):
        bits = [b for b in range(13) if mask >> b & 1]
        popcount[mask] = len(bits)
        colex[mask] = sum(comb(b, j + 1) for j, b in enumerate(bits))
        if len(bits) <= 5:
            uncolex[len(bits), colex[mask]] = mask
    return popcount, colex, uncolex


POPCOUNT, COLEX, UNCOLEX = _build_bit_tables()
# BOARD_SPAN[shape] = C(13 - m0, m1): board sets possible next to a hole set of size m0.
BOARD_SPAN = np.array([comb(13 - s // 6, s % 6) for s in range(SHAPES)], dtype=np.int64)
# SUIT_SIZE[shape] = number of suit patterns of that shape.
SUIT_SIZE = np.array([comb(13, s // 6) * BOARD_SPAN[s] for s in range(SHAPES)], dtype=np.int64)


def _multiset_count(n: int, k: int) -> int:
    """Multisets of size ``k`` drawn from ``n`` values."""
    return comb(n + k - 1, k)


def _build_config_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Configurations of every street and their blocks of indices.

    Returns
    -------
    shapes : int64[4, C, 4]
        Shape codes of configuration ``c`` of a street, sorted descending (the canonical suit
        order); unused rows are zero.
    offset : int64[4, C + 1]
        First index of each configuration's block; ``offset[street, count]`` is the street's
        number of indices, and unused tail entries repeat it (so a binary search stays right).
    lookup : int64[4, 18**3]
        Configuration of sorted shapes ``(s0, s1, s2, s3)`` at ``s0*324 + s1*18 + s2`` (``s3``
        follows from the street's card counts), or -1.
    num_indices : int64[4]
    """
    per_street: list[list[tuple[int, ...]]] = []
    for board in BOARD_SIZES:
        found: set[tuple[int, ...]] = set()
        for m0 in itertools.product(range(3), repeat=4):
            if sum(m0) != HOLE_SIZE:
                continue
            for m1 in itertools.product(range(board + 1), repeat=4):
                if sum(m1) == board:
                    codes = (a * 6 + b for a, b in zip(m0, m1, strict=True))
                    found.add(tuple(sorted(codes, reverse=True)))
        per_street.append(sorted(found, reverse=True))
    width = max(len(c) for c in per_street)
    shapes = np.zeros((4, width, 4), dtype=np.int64)
    offset = np.zeros((4, width + 1), dtype=np.int64)
    lookup = np.full((4, SHAPES**3), -1, dtype=np.int64)
    num = np.zeros(4, dtype=np.int64)
    for street, configs in enumerate(per_street):
        total = 0
        for c, config in enumerate(configs):
            shapes[street, c] = config
            offset[street, c] = total
            lookup[street, config[0] * SHAPES**2 + config[1] * SHAPES + config[2]] = c
            size = 1
            for shape, run in itertools.groupby(config):
                size *= _multiset_count(int(SUIT_SIZE[shape]), len(list(run)))
            total += size
        offset[street, len(configs) :] = total
        num[street] = total
    return shapes, offset, lookup, num


CFG_SHAPES, CFG_OFFSET, CFG_LOOKUP, NUM_INDICES = _build_config_tables()
NUM_INDICES[PREFLOP] = 169  # preflop uses its own order (same count, checked in tests)
