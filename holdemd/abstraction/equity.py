"""Showdown equity of every hole pair on a river board, against a uniformly random opponent.

Equity counts wins plus half the ties over the opponent hands that share no card with the
hole pair (990 of them on a river board: ``C(45, 2)``). It is kept exact, as the integer
numerator ``2 * wins + ties`` over :data:`EQUITY_DENOMINATOR` = 1980, so every later step
(histogram bins, quantiles) is integer arithmetic and bit-for-bit reproducible.

One board at a time: evaluate the 1,081 hole pairs that fit beside it, sort them by hand
value (radix sort, values < 2**13), and sweep from weakest to strongest. A pair's wins are
the pairs strictly below it minus those that hold one of its cards; per-card counters make
that O(1) per pair (inclusion-exclusion: no opponent holds both of our cards except our own
pair, which is never strictly below us). Ties work the same way inside a group of equal
values. The evaluator dominates the cost, so this is near evaluator-bound.
"""

from __future__ import annotations

import numpy as np

from holdemd.cards import rank7_codes
from holdemd.jit import inline_kernel, kernel

#: Equity = numerator / EQUITY_DENOMINATOR; numerator = 2 * wins + ties in 0..1980.
EQUITY_DENOMINATOR = 2 * 990
NUM_EQUITY_VALUES = EQUITY_DENOMINATOR + 1
#: Hole pairs beside a river board (47 unseen cards) and beside a turn board (48).
RIVER_PAIRS = 1081
TURN_PAIRS = 1128

_LOW_BITS = 7  # radix sort of 13-bit hand values: 7 low bits, then 6 high bits
_LOW_MASK = (1 << _LOW_BITS) - 1
_BUCKETS = 1 << _LOW_BITS


@inline_kernel
def river_equity_numerators(
    board: tuple[int, int, int, int, int],
    c0: np.ndarray,
    c1: np.ndarray,
    n: int,
    numer: np.ndarray,
    scratch: np.ndarray,
) -> None:
    """Equity numerators of ``n`` hole pairs on one river board.

    Parameters
    ----------
    board : (int64, int64, int64, int64, int64)
        The river board's card codes, as a tuple (a value: no array to allocate or index).
    c0, c1 : int[>= n]
        The hole pairs' card codes. They must be exactly the pairs of the cards not on the
        board (1,081 of them, any order): the opponent counts assume that.
    n : int
        Number of pairs (1,081).
    numer : int32[>= n], out
        ``2 * wins + ties`` of each pair against the other pairs that share none of its cards.
    scratch : int32[3 * n + 128 + 104]
        Work space (sort keys, permutations, radix buckets, per-card counters).
    """
    values = scratch[:n]
    order = scratch[n : 2 * n]
    tmp = scratch[2 * n : 3 * n]
    buckets = scratch[3 * n : 3 * n + _BUCKETS]
    below_with = scratch[3 * n + _BUCKETS : 3 * n + _BUCKETS + 52]
    equal_with = scratch[3 * n + _BUCKETS + 52 : 3 * n + _BUCKETS + 104]
    for p in range(n):
        values[p] = rank7_codes(c0[p], c1[p], board[0], board[1], board[2], board[3], board[4])
    # LSD radix sort of the pair ids by value: low 7 bits into tmp, high 6 bits into order.
    buckets[:] = 0
    for p in range(n):
        buckets[values[p] & _LOW_MASK] += 1
    total = 0
    for k in range(_BUCKETS):
        count = buckets[k]
        buckets[k] = total
        total += count
    for p in range(n):
        key = values[p] & _LOW_MASK
        tmp[buckets[key]] = p
        buckets[key] += 1
    buckets[:] = 0
    for p in range(n):
        buckets[values[p] >> _LOW_BITS] += 1
    total = 0
    for k in range(_BUCKETS):
        count = buckets[k]
        buckets[k] = total
        total += count
    for q in range(n):
        p = tmp[q]
        key = values[p] >> _LOW_BITS
        order[buckets[key]] = p
        buckets[key] += 1
    # Sweep groups of equal value from the weakest up.
    below_with[:] = 0
    equal_with[:] = 0
    below = 0
    start = 0
    while start < n:
        value = values[order[start]]
        stop = start + 1
        while stop < n and values[order[stop]] == value:
            stop += 1
        for q in range(start, stop):
            p = order[q]
            equal_with[c0[p]] += 1
            equal_with[c1[p]] += 1
        group = stop - start
        for q in range(start, stop):
            p = order[q]
            a = c0[p]
            b = c1[p]
            wins = below - below_with[a] - below_with[b]
            ties = group - equal_with[a] - equal_with[b] + 1
            numer[p] = 2 * wins + ties
        for q in range(start, stop):
            p = order[q]
            below_with[c0[p]] += 1
            below_with[c1[p]] += 1
            equal_with[c0[p]] = 0
            equal_with[c1[p]] = 0
        below += group
        start = stop


SCRATCH_SIZE = 3 * RIVER_PAIRS + _BUCKETS + 104


@kernel
def board_equities(board: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equity numerators of every hole pair on one river board (for tests and tools).

    Parameters
    ----------
    board : int[5]
        Distinct card codes.

    Returns
    -------
    c0, c1 : int64[1081]
        The hole pairs (c0 < c1), in lexicographic order.
    numer : int32[1081]
        ``2 * wins + ties`` against a random opponent; equity = numer / 1980.
    """
    used = np.int64(0)
    for c in board:
        used |= np.int64(1) << np.int64(c)
    c0 = np.empty(RIVER_PAIRS, dtype=np.int64)
    c1 = np.empty(RIVER_PAIRS, dtype=np.int64)
    n = 0
    for a in range(52):
        if (used >> a) & 1:
            continue
        for b in range(a + 1, 52):
            if not (used >> b) & 1:
                c0[n] = a
                c1[n] = b
                n += 1
    numer = np.empty(RIVER_PAIRS, dtype=np.int32)
    scratch = np.empty(SCRATCH_SIZE, dtype=np.int32)
    cards = (
        np.int64(board[0]),
        np.int64(board[1]),
        np.int64(board[2]),
        np.int64(board[3]),
        np.int64(board[4]),
    )
    river_equity_numerators(cards, c0, c1, n, numer, scratch)
    return c0, c1, numer
