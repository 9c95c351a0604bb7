"""Poker's hand ranking as code: the categories, and the strength of every 5-, 6- and 7-card hand.

A hand's *strength key* is its category (0 high card .. 8 straight flush) followed by up to
five tie-break ranks, base 13, most significant first, so comparing keys compares hands by
the rules. :func:`class_tables` computes, once, the key of every rank multiset of 5..7 cards
(the best non-flush hand it holds) and of every flush suit's rank mask (the best flush or
straight flush), plus the sorted distinct keys of 5-card hands, whose positions become the
dense hand values 1..7462. :mod:`holdemd.cards.evaluator_tables` turns these into the lookup
tables the evaluator reads; nothing here runs when a hand is evaluated.
"""

from __future__ import annotations

import numpy as np

from holdemd.jit import kernel

HIGH_CARD, PAIR, TWO_PAIR, THREE_OF_A_KIND, STRAIGHT = 0, 1, 2, 3, 4
FLUSH, FULL_HOUSE, FOUR_OF_A_KIND, STRAIGHT_FLUSH = 5, 6, 7, 8
CATEGORY_NAMES: tuple[str, ...] = (
    "high card",
    "one pair",
    "two pair",
    "three of a kind",
    "straight",
    "flush",
    "full house",
    "four of a kind",
    "straight flush",
)
NUM_VALUES = 7462  # distinct 5-card hand values


@kernel
def _straight_top(mask: int) -> int:
    """Top rank (3..12) of the best straight in a 13-bit rank mask, or -1 if there is none.

    The ace is copied below the deuce (bit 0 of ``wide``) so that A-2-3-4-5 is found as the
    straight with top rank 3 (the five).
    """
    wide = (mask << 1) | ((mask >> 12) & 1)
    for top in range(12, 2, -1):
        run = 0x1F << (top - 3)  # bits top-4..top of ``mask`` are bits top-3..top+1 of ``wide``
        if wide & run == run:
            return top
    return -1


@kernel
def _encode(category: int, r0: int, r1: int, r2: int, r3: int, r4: int) -> int:
    """Strength key: category then up to five tie-break ranks, base 13, most significant first.

    Within a category every hand uses the same number of tie-break ranks, so padding with 0
    never confuses two hands.

    Parameters
    ----------
    category : int
        0 (high card) .. 8 (straight flush).
    r0, r1, r2, r3, r4 : int
        Tie-break ranks 0..12, most significant first (0 where unused).
    """
    return ((((category * 13 + r0) * 13 + r1) * 13 + r2) * 13 + r3) * 13 + r4


@kernel
def _top_ranks(mask: int, n: int, out: np.ndarray) -> None:
    """Write the ``n`` highest ranks of a 13-bit mask, descending, into ``out[:n]``.

    Parameters
    ----------
    mask : int
        Bit r set for each rank r present.
    n : int
        Ranks to write; at most the bits set in ``mask``.
    out : int64[>= n], out
    """
    k = 0
    for r in range(12, -1, -1):
        if k < n and (mask >> r) & 1:
            out[k] = r
            k += 1


@kernel
def _flush_strength(mask: int) -> int:
    """Strength key of the best hand formed by the ranks of a flush suit (>= 5 bits set)."""
    top = _straight_top(mask)
    if top >= 0:
        return _encode(STRAIGHT_FLUSH, top, 0, 0, 0, 0)
    r = np.zeros(5, dtype=np.int64)
    _top_ranks(mask, 5, r)
    return _encode(FLUSH, r[0], r[1], r[2], r[3], r[4])


@kernel
def _multiset_strength(counts: np.ndarray) -> int:
    """Strength key of the best 5-card non-flush hand in a rank multiset of 5..7 cards.

    Parameters
    ----------
    counts : int64[13]
        Number of cards of each rank (0..4).
    """
    present = 0
    quads = -1
    trips = -1
    pairs = 0  # mask of ranks holding at least a pair (trips included)
    for r in range(13):
        c = counts[r]
        if c > 0:
            present |= 1 << r
        if c >= 2:
            pairs |= 1 << r
        if c >= 3:
            trips = r  # ascending loop: ends on the highest
        if c == 4:
            quads = r
    k = np.zeros(5, dtype=np.int64)
    if quads >= 0:
        _top_ranks(present & ~(1 << quads), 1, k)
        return _encode(FOUR_OF_A_KIND, quads, k[0], 0, 0, 0)
    if trips >= 0:
        other_pairs = pairs & ~(1 << trips)  # a second trips counts as the pair
        if other_pairs:
            _top_ranks(other_pairs, 1, k)
            return _encode(FULL_HOUSE, trips, k[0], 0, 0, 0)
    top = _straight_top(present)
    if top >= 0:
        return _encode(STRAIGHT, top, 0, 0, 0, 0)
    if trips >= 0:
        _top_ranks(present & ~(1 << trips), 2, k)
        return _encode(THREE_OF_A_KIND, trips, k[0], k[1], 0, 0)
    p = np.zeros(2, dtype=np.int64)
    npairs = 0
    for r in range(13):
        if (pairs >> r) & 1:
            npairs += 1
    if npairs >= 2:
        _top_ranks(pairs, 2, p)
        # The kicker may come from a third pair: only the two best pairs play.
        _top_ranks(present & ~(1 << p[0]) & ~(1 << p[1]), 1, k)
        return _encode(TWO_PAIR, p[0], p[1], k[0], 0, 0)
    if npairs == 1:
        _top_ranks(pairs, 1, p)
        _top_ranks(present & ~(1 << p[0]), 3, k)
        return _encode(PAIR, p[0], k[0], k[1], k[2], 0)
    _top_ranks(present, 5, k)
    return _encode(HIGH_CARD, k[0], k[1], k[2], k[3], k[4])


@kernel
def _enumerate_multisets(size: int) -> tuple[np.ndarray, np.ndarray]:
    """All rank multisets of ``size`` cards with no rank more than 4 times.

    Returns
    -------
    keys : int64[m]
        Base-5 keys ``sum(5**rank)``.
    counts : int64[m, 13]
        Cards per rank.
    """
    # Odometer over non-decreasing rank sequences r[0] <= ... <= r[size-1].
    cap = 60000
    keys = np.empty(cap, dtype=np.int64)
    counts = np.zeros((cap, 13), dtype=np.int64)
    r = np.zeros(size, dtype=np.int64)
    m = 0
    while True:
        c = np.zeros(13, dtype=np.int64)
        for i in range(size):
            c[r[i]] += 1
        ok = True
        for i in range(13):
            if c[i] > 4:
                ok = False
        if ok:
            key = 0
            p5 = 1
            for i in range(13):
                key += c[i] * p5
                p5 *= 5
            keys[m] = key
            counts[m, :] = c
            m += 1
        j = size - 1
        while j >= 0 and r[j] == 12:
            j -= 1
        if j < 0:
            break
        r[j] += 1
        for i in range(j + 1, size):
            r[i] = r[j]
    return keys[:m], counts[:m]


@kernel
def _popcount13(mask: int) -> int:
    """Number of set bits of a 13-bit rank mask."""
    n = 0
    for r in range(13):
        n += (mask >> r) & 1
    return n


@kernel
def class_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Strengths of all 5..7-card rank multisets and all flush masks.

    Returns
    -------
    five_strengths : int64[7462]
        Sorted distinct strength keys of 5-card hands; a strength's position + 1 is its value.
    multiset_keys : int64[73775]
        Base-5 keys of every rank multiset of 5, 6 or 7 cards.
    multiset_strengths : int64[73775]
        Strength key of each multiset's best non-flush hand.
    flush_strengths : int64[8192]
        Strength key of the best hand of each flush-suit rank mask with >= 5 ranks, else -1.
    """
    parts_k = []
    parts_s = []
    for size in range(5, 8):
        keys, counts = _enumerate_multisets(size)
        s = np.empty(keys.size, dtype=np.int64)
        for i in range(keys.size):
            s[i] = _multiset_strength(counts[i])
        parts_k.append(keys)
        parts_s.append(s)
    flush = np.full(8192, -1, dtype=np.int64)
    for mask in range(8192):
        if _popcount13(mask) >= 5:
            flush[mask] = _flush_strength(mask)
    # Distinct 5-card classes: 5-card multisets plus 5-bit flush masks.
    five = np.empty(parts_s[0].size + 1287, dtype=np.int64)
    five[: parts_s[0].size] = parts_s[0]
    n = parts_s[0].size
    for mask in range(8192):
        if _popcount13(mask) == 5:
            five[n] = flush[mask]
            n += 1
    five_strengths = np.unique(five)
    multiset_keys = np.concatenate((parts_k[0], parts_k[1], parts_k[2]))
    multiset_strengths = np.concatenate((parts_s[0], parts_s[1], parts_s[2]))
    return five_strengths, multiset_keys, multiset_strengths, flush
