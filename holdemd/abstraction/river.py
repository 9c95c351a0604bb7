"""River buckets: equity against a random hand, cut into equal-mass ranges.

A river hand's bucket is a function of its exact equity numerator (0..1980, see
:mod:`holdemd.abstraction.equity`), so the whole river abstraction is a 1,981-entry look-up
table (:func:`equal_mass_lut`) plus the pass that evaluates every canonical river hand
(:func:`river_pass`). The look-up table is small and ships with a preset; the 123-million-entry
river table is rebuilt from it on first use, deterministically.

Buckets are ordered by equity (bucket 0 is the weakest), so ids mean something to a reader.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import prange

from holdemd.abstraction.equity import (
    NUM_EQUITY_VALUES,
    RIVER_PAIRS,
    SCRATCH_SIZE,
    river_equity_numerators,
)
from holdemd.cards import index_from_bits, suit_rank_bit
from holdemd.jit import kernel, parallel_kernel

RIVER_STREET = 3
_WEIGHT_SCALE = 1 << 20


@kernel
def _balanced_partition(cum: np.ndarray, k: int) -> np.ndarray:
    """Split ``n`` weighted values (cumulative weights ``cum``, int64[n + 1]) into ``k``
    contiguous non-empty groups minimising the sum of squared group weights.

    Returns int64[n], the group of each value. Dynamic programming over (groups, prefix
    length); for this convex cost the best split point never moves left as the prefix grows,
    which bounds the inner search from below.
    """
    n = cum.size - 1
    inf = np.iinfo(np.int64).max
    previous = np.full(n + 1, inf, dtype=np.int64)
    for j in range(1, n + 1):
        previous[j] = cum[j] * cum[j]
    split = np.zeros((k + 1, n + 1), dtype=np.int64)
    current = np.full(n + 1, inf, dtype=np.int64)
    for b in range(2, k + 1):
        current[:] = inf
        start = b - 1
        for j in range(b, n + 1):
            best = inf
            best_i = start
            for i in range(start, j):
                cost = previous[i] + (cum[j] - cum[i]) ** 2
                if cost < best:
                    best = cost
                    best_i = i
            current[j] = best
            split[b, j] = best_i
            start = best_i
        previous, current = current, previous
    groups = np.empty(n, dtype=np.int64)
    j = n
    for b in range(k, 0, -1):
        i = split[b, j] if b > 1 else 0
        groups[i:j] = b - 1
        j = i
    return groups


def equal_mass_lut(counts: npt.ArrayLike, buckets: int) -> npt.NDArray[np.int64]:
    """Bucket of each equity numerator so that buckets hold about equal mass.

    Parameters
    ----------
    counts : int[1981]
        Weight (number of raw river hands) of each equity numerator.
    buckets : int
        Number of buckets; all are used if at least that many numerators have weight (else
        one bucket per weighted numerator, from 0 up).

    Returns
    -------
    int64[1981]
        Non-decreasing bucket ids in ``0..buckets-1``. Numerators without weight join the
        bucket of the nearest weighted one below them (or bucket 0).

    A numerator is never split, so a heavy one (the board plays: exactly 1/2) can outweigh an
    equal share. Cutting at plain quantiles would then waste buckets or unbalance its
    neighbours; instead the cuts minimise the sum of squared bucket masses, which isolates
    heavy values and splits the rest evenly.
    """
    weights = np.asarray(counts, dtype=np.float64)
    if weights.shape != (NUM_EQUITY_VALUES,) or not (weights >= 0).all():
        raise ValueError("counts must be 1,981 non-negative weights")
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    weighted = np.flatnonzero(weights > 0)
    lut = np.zeros(NUM_EQUITY_VALUES, dtype=np.int64)
    if weighted.size == 0:
        return lut
    # Integer weights (parts per 2**20 of the total) keep the optimisation exact and the same
    # on every machine; squares and their sums stay far below 2**63.
    share = np.rint(weights[weighted] / weights.sum() * _WEIGHT_SCALE).astype(np.int64)
    cum = np.concatenate([[0], np.cumsum(share)]).astype(np.int64)
    groups = _balanced_partition(cum, min(buckets, weighted.size))
    for value, group in zip(weighted, groups, strict=True):
        lut[value:] = group
    return lut


@parallel_kernel
def river_pass(
    boards: np.ndarray, lo: int, hi: int, chunks: int, lut: np.ndarray, table: np.ndarray
) -> None:
    """Write the bucket of every river hand on canonical boards ``lo..hi-1``.

    Parameters
    ----------
    boards : int8[n, 5]
        Canonical river boards (:func:`holdemd.abstraction.boards.canonical_boards`).
    lo, hi : int
        Range of boards to process.
    chunks : int
        Work units (one per thread).
    lut : uint8 or uint16[1981]
        Bucket of each equity numerator.
    table : uint8 or uint16[num_indices(3)], out
        River bucket table; the entries of hands on these boards are written (boards of
        different suit classes never share an index, so units write disjoint entries).
    """
    n = hi - lo
    for unit in prange(chunks):
        c0 = np.empty(RIVER_PAIRS, dtype=np.int64)
        c1 = np.empty(RIVER_PAIRS, dtype=np.int64)
        numer = np.empty(RIVER_PAIRS, dtype=np.int32)
        scratch = np.empty(SCRATCH_SIZE, dtype=np.int32)
        for t in range(lo + n * unit // chunks, lo + n * (unit + 1) // chunks):
            b0 = np.int64(boards[t, 0])
            b1 = np.int64(boards[t, 1])
            b2 = np.int64(boards[t, 2])
            b3 = np.int64(boards[t, 3])
            b4 = np.int64(boards[t, 4])
            board_bits = suit_rank_bit(b0) | suit_rank_bit(b1) | suit_rank_bit(b2)
            board_bits |= suit_rank_bit(b3) | suit_rank_bit(b4)
            m = 0
            for a in range(52):
                if (board_bits & suit_rank_bit(a)) != 0:
                    continue
                for b in range(a + 1, 52):
                    if (board_bits & suit_rank_bit(b)) == 0:
                        c0[m] = a
                        c1[m] = b
                        m += 1
            river_equity_numerators((b0, b1, b2, b3, b4), c0, c1, m, numer, scratch)
            for p in range(m):
                hole_bits = suit_rank_bit(c0[p]) | suit_rank_bit(c1[p])
                table[index_from_bits(RIVER_STREET, hole_bits, board_bits)] = lut[numer[p]]
