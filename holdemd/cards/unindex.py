"""From a suit-isomorphic class index back to a hand: a representative of each class.

The inverse of :mod:`holdemd.cards.isomorphism`, reading the same tables
(:mod:`holdemd.cards.isomorphism_tables`): the index's configuration block gives the suits'
shapes, the rest of the index unranks (mixed radix, then multisets of equal shapes) into one
suit pattern per canonical position, and position p becomes suit p. tests/cards checks every
flop class both ways.

Kernel for numba callers (allocation free): :func:`unindex_into`. Batch functions for Python:
:func:`unindex_hand`, :func:`unindex_hands`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from holdemd.cards.isomorphism import check_street, choose
from holdemd.cards.isomorphism_tables import (
    BOARD_SPAN,
    CFG_OFFSET,
    CFG_SHAPES,
    NUM_INDICES,
    POPCOUNT,
    SUIT_SIZE,
    UNCOLEX,
)
from holdemd.cards.preflop import preflop_ranks
from holdemd.cards.streets import BOARD_SIZES, HOLE_SIZE, STREET_NAMES
from holdemd.jit import kernel


@kernel
def _unrank_multiset(rank: int, k: int, n: int, first: int) -> int:
    """Inverse of the multiset rank of a run of ``k`` suits with ``n`` possible patterns.

    Returns the patterns x_0 >= ... >= x_{k-1} packed 16 bits apart, x_t at bit
    ``16 * (first + t)``.

    Parameters
    ----------
    rank : int
        The multiset's rank.
    k : int
        Suits in the run.
    n : int
        Possible patterns of one suit.
    first : int
        The run's first canonical position (0..3).
    """
    if k == 1:
        return rank << (16 * first)
    packed = 0
    for t in range(k):
        m = k - t
        # Largest j with C(j, m) <= rank; C(., m) is increasing from j = m - 1 on.
        lo = m - 1
        hi = n + k - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if choose(mid, m) <= rank:
                lo = mid
            else:
                hi = mid - 1
        rank -= choose(lo, m)
        packed |= (lo - (k - 1 - t)) << (16 * (first + t))
    return packed


@kernel
def unindex_into(street: int, index: int, out: np.ndarray) -> None:
    """Write a representative hand of class ``index`` into ``out``.

    Parameters
    ----------
    street : int
        0 preflop .. 3 river.
    index : int
        Class index in ``0 .. num_indices(street) - 1`` (not checked).
    out : int[2 + k]
        Receives the hole cards then the board cards, each part in ascending code order;
        suits are relabelled so that canonical position p is suit p. Inverse of
        :func:`index_cards`. Allocation free.
    """
    if street == 0:
        hi, lo = preflop_ranks(index)
        out[0] = 4 * lo
        out[1] = 4 * hi + (1 if index < 13 or index >= 91 else 0)  # pairs, offsuit: 2 suits
        return
    offsets = CFG_OFFSET[street]
    config = np.searchsorted(offsets, index, side="right") - 1
    rest = index - offsets[config]
    shapes = CFG_SHAPES[street, config]
    # Patterns of the four canonical positions, 16 bits each. Only positions 0..2 can exceed
    # 2**15 (a suit with hole cards); position 3 has the smallest shape, which holds no hole
    # card (two hole cards leave two suits without), so the int64 never turns negative.
    patterns = 0
    p = 0
    while p < 4:
        q = p + 1
        while q < 4 and shapes[q] == shapes[p]:
            q += 1
        k = q - p
        n = SUIT_SIZE[shapes[p]]
        size = choose(n + k - 1, k)
        patterns |= _unrank_multiset(rest % size, k, n, p)
        rest //= size
        p = q
    hole_bits = 0
    board_bits = 0
    for suit in range(4):  # canonical position p becomes suit p
        shape = shapes[suit]
        span = BOARD_SPAN[shape]
        pattern = (patterns >> (16 * suit)) & 0xFFFF
        h = UNCOLEX[shape // 6, pattern // span]
        b = UNCOLEX[shape % 6, pattern % span]
        # Put the hole ranks back into the board set (lowest first).
        rest_h = h
        while rest_h:
            low = rest_h & -rest_h
            pos = POPCOUNT[low - 1]
            b = (b & ((1 << pos) - 1)) | ((b >> pos) << (pos + 1))
            rest_h ^= low
        hole_bits |= h << (16 * suit)
        board_bits |= b << (16 * suit)
    # Walk the codes upwards (rank-major, suit-minor) so both parts come out sorted.
    nh = 0
    nb = 2
    for r in range(13):
        for suit in range(4):
            if (hole_bits >> (16 * suit + r)) & 1:
                out[nh] = 4 * r + suit
                nh += 1
            elif (board_bits >> (16 * suit + r)) & 1:
                out[nb] = 4 * r + suit
                nb += 1


@kernel
def _unindex_batch(street: int, indices: np.ndarray, width: int) -> np.ndarray:
    """int8[n, width] representative hands of class indices.

    Parameters
    ----------
    street : int
        0 preflop .. 3 river.
    indices : int64[n]
    width : int
        Cards per hand: 2 + board cards of ``street``.
    """
    out = np.empty((indices.size, width), dtype=np.int8)
    for i in range(indices.size):
        unindex_into(street, indices[i], out[i])
    return out


def unindex_hand(street: int, index: int) -> npt.NDArray[np.int8]:
    """A representative hand of class ``index``: int8[2 + k], hole cards then board."""
    return unindex_hands(street, np.array([index]))[0]


def unindex_hands(street: int, indices: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Representative hands of classes: int[n] -> int8[n, 2 + k]."""
    check_street(street)
    idx = np.ascontiguousarray(np.asarray(indices, dtype=np.int64).reshape(-1))
    if idx.size and (idx.min() < 0 or idx.max() >= NUM_INDICES[street]):
        raise ValueError(
            f"{STREET_NAMES[street]} indices must lie in 0..{int(NUM_INDICES[street]) - 1}"
        )
    return _unindex_batch(street, idx, HOLE_SIZE + BOARD_SIZES[street])
