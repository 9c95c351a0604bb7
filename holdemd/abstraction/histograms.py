"""Hand-strength distributions of turn and flop hands, as cumulative histograms.

A turn hand's feature is the distribution of its final (river) equity over the 46 river
cards; a flop hand's is the same over the 1,081 turn-and-river runouts. Equity in ``[0, 1]``
falls into ``bins`` equal-width bins; we keep the *cumulative* counts without the last one
(always the total), so the earth mover's distance between two hands is the L1 distance of
their rows (see :mod:`holdemd.abstraction.kmeans`). Rows are uint8:

* turn: exact counts, 0..46;
* flop: counts over the 47 * 46 ordered runouts (0..2162), rescaled to 0..255 (rounded). The
  rounding moves each cumulative value by at most 0.2% of the mass, far below the distances
  between clusters, and halves memory and distance cost against uint16.

The turn pass walks the canonical turn boards (16,432); for each of the 48 river cards it
computes the equities of all 1,081 hole pairs with one sweep (:mod:`holdemd.abstraction.equity`)
and adds them to the 1,128 hole pairs' histograms; then it writes each pair's row at its turn
index. Boards of different classes never share an index, so threads write disjoint rows. On the
way it tallies the equity of every raw river hand (weighted by the board's class size), which is
what the river's equal-mass buckets are cut from: every raw river hand is seen exactly five times
(once per 4-card subset of its board), a uniform factor that quantiles ignore.

The flop pass sums the turn rows of the 47 turn cards of each flop index: the CDF of a mixture
is the sum of the CDFs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import prange

from holdemd.abstraction.equity import (
    EQUITY_DENOMINATOR,
    RIVER_PAIRS,
    SCRATCH_SIZE,
    TURN_PAIRS,
    river_equity_numerators,
)
from holdemd.cards import index_from_bits, suit_rank_bit, unindex_into
from holdemd.jit import inline_kernel, parallel_kernel

TURN_STREET = 2
FLOP_STREET = 1
TURN_RUNOUTS = 46  # river cards beside a turn hand
FLOP_RUNOUTS = 47 * 46  # ordered (turn, river) runouts beside a flop hand
FLOP_SCALE = 255


def row_total(street: int) -> int:
    """The last (dropped) cumulative count of a row: 46 on the turn, 255 on the flop."""
    return {TURN_STREET: TURN_RUNOUTS, FLOP_STREET: FLOP_SCALE}[street]


def mean_equities(rows: npt.NDArray[np.uint8], total: int) -> npt.NDArray[np.float64]:
    """Mean final equity of each row's distribution, taking each bin at its midpoint.

    With ``B`` bins and cumulative counts ``F_b`` out of ``total``,
    ``mean = sum_b p_b (b + 1/2) / B = (B - 1/2) / B - sum_{b < B-1} F_b / (total * B)``.
    """
    bins = rows.shape[1] + 1
    sums = rows.sum(axis=1, dtype=np.int64)
    return (bins - 0.5) / bins - sums / (total * bins)


@inline_kernel
def equity_bin(numer: int, bins: int) -> int:
    """Bin 0..bins-1 of an equity numerator (equal-width bins over [0, 1], 1 in the last)."""
    return min(numer * bins // EQUITY_DENOMINATOR, bins - 1)


@parallel_kernel
def turn_pass(
    boards: np.ndarray,
    class_sizes: np.ndarray,
    bins: int,
    chunks: int,
    turn_rows: np.ndarray,
    river_counts: np.ndarray,
) -> None:
    """Turn CDF rows of every hand on ``boards``, and the weighted river equity tally.

    Parameters
    ----------
    boards : int8[n, 4]
        Canonical turn boards (:func:`holdemd.abstraction.boards.canonical_boards`).
    class_sizes : int64[n]
        Boards in each board's suit class: the weight of its river hands in the tally.
    bins : int
        Equity bins; rows hold ``bins - 1`` cumulative counts.
    chunks : int
        Work units (one per thread); ``river_counts`` has one row per unit.
    turn_rows : uint8[num_indices(2), bins - 1], out
        Rows of the hands on ``boards`` are written; other rows are left alone.
    river_counts : int64[chunks, 1981], in/out
        ``river_counts[u, e]`` is increased by the class size for each river hand of equity
        numerator ``e`` met by unit ``u`` (added to, not reset).
    """
    n = boards.shape[0]
    width = bins - 1
    for unit in prange(chunks):
        lo = n * unit // chunks
        hi = n * (unit + 1) // chunks
        rest = np.empty(48, dtype=np.int64)
        pair_i = np.empty(TURN_PAIRS, dtype=np.int64)
        pair_j = np.empty(TURN_PAIRS, dtype=np.int64)
        c0 = np.empty(RIVER_PAIRS, dtype=np.int64)
        c1 = np.empty(RIVER_PAIRS, dtype=np.int64)
        pid = np.empty(RIVER_PAIRS, dtype=np.int64)
        numer = np.empty(RIVER_PAIRS, dtype=np.int32)
        scratch = np.empty(SCRATCH_SIZE, dtype=np.int32)
        hist = np.empty((TURN_PAIRS, bins), dtype=np.int32)
        for t in range(lo, hi):
            b0 = np.int64(boards[t, 0])
            b1 = np.int64(boards[t, 1])
            b2 = np.int64(boards[t, 2])
            b3 = np.int64(boards[t, 3])
            weight = class_sizes[t]
            board_bits = suit_rank_bit(b0) | suit_rank_bit(b1) | suit_rank_bit(b2)
            board_bits |= suit_rank_bit(b3)
            m = 0
            for c in range(52):
                if c != b0 and c != b1 and c != b2 and c != b3:
                    rest[m] = c
                    m += 1
            m = 0
            for i in range(48):
                for j in range(i + 1, 48):
                    pair_i[m] = i
                    pair_j[m] = j
                    m += 1
            hist[:, :] = 0
            for k in range(48):
                m = 0
                for p in range(TURN_PAIRS):
                    if pair_i[p] != k and pair_j[p] != k:
                        c0[m] = rest[pair_i[p]]
                        c1[m] = rest[pair_j[p]]
                        pid[m] = p
                        m += 1
                board = (b0, b1, b2, b3, rest[k])
                river_equity_numerators(board, c0, c1, m, numer, scratch)
                for q in range(m):
                    hist[pid[q], equity_bin(numer[q], bins)] += 1
                    river_counts[unit, numer[q]] += weight
            for p in range(TURN_PAIRS):
                h0 = rest[pair_i[p]]
                h1 = rest[pair_j[p]]
                index = index_from_bits(
                    TURN_STREET, suit_rank_bit(h0) | suit_rank_bit(h1), board_bits
                )
                running = 0
                for b in range(width):
                    running += hist[p, b]
                    turn_rows[index, b] = running


@parallel_kernel
def flop_pass(turn_rows: np.ndarray, lo: int, hi: int, chunks: int, flop_rows: np.ndarray) -> None:
    """Flop CDF rows ``lo..hi-1``: the sum of the turn rows of each of the 47 turn cards.

    Parameters
    ----------
    turn_rows : uint8[num_indices(2), d]
        Complete turn rows from :func:`turn_pass`.
    lo, hi : int
        Range of flop indices to fill.
    chunks : int
        Work units (one per thread).
    flop_rows : uint8[num_indices(1), d], out
        Cumulative counts over the 2,162 ordered runouts, rescaled to 0..255.
    """
    width = turn_rows.shape[1]
    n = hi - lo
    for unit in prange(chunks):
        cards = np.empty(5, dtype=np.int64)
        acc = np.empty(width, dtype=np.int32)
        for f in range(lo + n * unit // chunks, lo + n * (unit + 1) // chunks):
            unindex_into(FLOP_STREET, f, cards)
            hole_bits = suit_rank_bit(cards[0]) | suit_rank_bit(cards[1])
            board_bits = suit_rank_bit(cards[2]) | suit_rank_bit(cards[3]) | suit_rank_bit(cards[4])
            acc[:] = 0
            for c in range(52):
                bit = suit_rank_bit(c)
                if (hole_bits | board_bits) & bit:
                    continue
                index = index_from_bits(TURN_STREET, hole_bits, board_bits | bit)
                for b in range(width):
                    acc[b] += turn_rows[index, b]
            for b in range(width):
                flop_rows[f, b] = (acc[b] * FLOP_SCALE + FLOP_RUNOUTS // 2) // FLOP_RUNOUTS
