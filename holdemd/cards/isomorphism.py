"""Suit-isomorphic hand indexing: a dense index per (hole cards, board) class, per street.

Two hands are isomorphic when a relabelling of the suits turns one into the other, with the
hole cards kept apart from the board and the board taken as one set (the order in which board
cards came is forgotten). Each street's classes get the indices ``0 .. num_indices(street)-1``:

======== ===== ============
street   board  classes
======== ===== ============
preflop  0     169
flop     3     1,286,792
turn     4     13,960,050
river    5     123,156,254
======== ===== ============

How a hand becomes an index (suit patterns, configurations) is told in
:mod:`holdemd.cards.isomorphism_tables`, which builds the tables the kernels here read.
Preflop has its own, readable order, in :mod:`holdemd.cards.preflop`.

Kernels for numba callers (scalar, allocation free): :func:`index_hand`, :func:`index_cards`,
:func:`index_from_bits` with :func:`suit_rank_bit` (to OR a shared board once and index many
hole pairs against it). Batch function for Python: :func:`index_hands`. The way back, from an
index to a representative hand, is :mod:`holdemd.cards.unindex`; both directions read the
same tables and tests/cards checks that they are exact inverses.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from holdemd.cards.codes import as_card_matrix
from holdemd.cards.isomorphism_tables import (
    BOARD_SPAN,
    CFG_LOOKUP,
    CFG_OFFSET,
    COLEX,
    NUM_INDICES,
    POPCOUNT,
    SUIT_SIZE,
)
from holdemd.cards.preflop import preflop_index, preflop_index_from_bits
from holdemd.cards.streets import BOARD_SIZES, FLOP, HOLE_SIZE, PREFLOP, RIVER, TURN
from holdemd.jit import kernel


def num_indices(street: int) -> int:
    """Number of suit-isomorphic classes of ``street`` (0 preflop .. 3 river)."""
    check_street(street)
    return int(NUM_INDICES[street])


def check_street(street: int) -> None:
    """Refuse a street outside 0..3 (the batch functions here and in unindex)."""
    if street not in (PREFLOP, FLOP, TURN, RIVER):
        raise ValueError(f"street must be 0..3 (preflop..river), got {street}")


@kernel
def choose(n: int, k: int) -> int:
    """Binomial coefficient for small ``k`` (exact in int64 for the sizes used here)."""
    if k < 0 or n < k:
        return 0
    r = 1
    for i in range(k):
        r = r * (n - i) // (i + 1)
    return r


@kernel
def suit_rank_bit(card: int) -> int:
    """``1 << (16 * suit + rank)`` of a card code: OR these to get a hand's rank sets per suit
    (13 bits each, 16 apart), the input of :func:`index_from_bits`. Returns int64."""
    c = np.int64(card)  # widen: int8 cards would shift in int8 in plain Python
    return np.int64(1) << (16 * (c & 3) + (c >> 2))


@kernel
def _suit_key(hole_bits: int, board_bits: int, suit: int) -> int:
    """Sort key of one suit: ``shape << 16 | pattern rank`` (pattern rank < 36,036).

    Parameters
    ----------
    hole_bits, board_bits : int64
        One 13-bit rank set per suit, 16 bits apart (OR of :func:`suit_rank_bit`).
    suit : int
        0..3.
    """
    h = (hole_bits >> (16 * suit)) & 0x1FFF
    b = (board_bits >> (16 * suit)) & 0x1FFF
    shape = POPCOUNT[h] * 6 + POPCOUNT[b]
    # Squeeze the hole ranks out of the board set (lowest first; each removal shifts the
    # later positions down by one), so the board set is ranked among the free ranks only.
    rest = h
    removed = 0
    while rest:
        low = rest & -rest
        pos = POPCOUNT[low - 1] - removed
        b = (b & ((1 << pos) - 1)) | ((b >> (pos + 1)) << pos)
        removed += 1
        rest ^= low
    return (shape << 16) | (COLEX[h] * BOARD_SPAN[shape] + COLEX[b])


@kernel
def _pick(p: int, a0: int, a1: int, a2: int, a3: int) -> int:
    """``(a0, a1, a2, a3)[p]`` without building a tuple or array.

    Parameters
    ----------
    p : int
        0..3.
    a0, a1, a2, a3 : int
    """
    if p == 0:
        return a0
    if p == 1:
        return a1
    if p == 2:
        return a2
    return a3


@kernel
def index_from_bits(street: int, hole_bits: int, board_bits: int) -> int:
    """Canonical index of a hand given as per-suit rank sets.

    For kernels that index several hands on a shared board: OR the board's
    :func:`suit_rank_bit` once, then call this per hole pair.

    Parameters
    ----------
    street : int
        0 preflop .. 3 river.
    hole_bits : int
        OR of :func:`suit_rank_bit` of the two hole cards.
    board_bits : int
        OR of :func:`suit_rank_bit` of the street's 0, 3, 4 or 5 board cards (ignored
        preflop; not checked).

    Returns
    -------
    int
        Same as :func:`index_hand`.
    """
    if street == 0:
        return preflop_index_from_bits(hole_bits)
    a0 = _suit_key(hole_bits, board_bits, 0)
    a1 = _suit_key(hole_bits, board_bits, 1)
    a2 = _suit_key(hole_bits, board_bits, 2)
    a3 = _suit_key(hole_bits, board_bits, 3)
    # Sorting network, descending: canonical suit order.
    if a0 < a1:
        a0, a1 = a1, a0
    if a2 < a3:
        a2, a3 = a3, a2
    if a0 < a2:
        a0, a2 = a2, a0
    if a1 < a3:
        a1, a3 = a3, a1
    if a1 < a2:
        a1, a2 = a2, a1
    config = CFG_LOOKUP[street, (a0 >> 16) * 324 + (a1 >> 16) * 18 + (a2 >> 16)]
    index = 0
    radix = 1
    p = 0
    while p < 4:
        shape = _pick(p, a0, a1, a2, a3) >> 16
        q = p + 1
        while q < 4 and (_pick(q, a0, a1, a2, a3) >> 16) == shape:
            q += 1
        k = q - p
        if k == 1:  # the common case: a suit unlike the others
            index += (_pick(p, a0, a1, a2, a3) & 0xFFFF) * radix
            radix *= SUIT_SIZE[shape]
        else:
            # Multiset rank of the run's pattern ranks x_0 >= x_1 >= ...: the strictly
            # decreasing x_t + (k-1-t) ranked in colex order.
            rank = 0
            for t in range(k):
                x = _pick(p + t, a0, a1, a2, a3) & 0xFFFF
                rank += choose(x + k - 1 - t, k - t)
            index += rank * radix
            radix *= choose(SUIT_SIZE[shape] + k - 1, k)
        p = q
    return CFG_OFFSET[street, config] + index


@kernel
def index_hand(street: int, hole: np.ndarray, board: np.ndarray) -> int:
    """Canonical index of hole cards and a board.

    Parameters
    ----------
    street : int
        0 preflop, 1 flop, 2 turn, 3 river.
    hole : int[2]
        Hole card codes, any order.
    board : int[k]
        Board card codes, any order, ``k = BOARD_SIZES[street]`` (0, 3, 4 or 5); ignored
        preflop. All cards distinct; nothing is checked.

    Returns
    -------
    int
        Index in ``0 .. num_indices(street) - 1``, equal for suit-isomorphic hands.
    """
    # Widen first: with int8 cards, plain Python (NUMBA_DISABLE_JIT) would compute in int8.
    h0 = np.int64(hole[0])
    h1 = np.int64(hole[1])
    if street == 0:
        return preflop_index(h0, h1)
    board_bits = np.int64(0)
    for card in board:
        board_bits |= suit_rank_bit(card)
    return index_from_bits(street, suit_rank_bit(h0) | suit_rank_bit(h1), board_bits)


@kernel
def index_cards(street: int, cards: np.ndarray) -> int:
    """:func:`index_hand` of ``cards = [hole0, hole1, board...]`` (int[2 + k])."""
    return index_hand(street, cards[:2], cards[2 : 2 + (street > 0) * (street + 2)])


@kernel
def _index_batch(street: int, cards: np.ndarray) -> np.ndarray:
    """int64[n] indices of int[n, 2 + k] hands (hole cards then board)."""
    n = cards.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = index_cards(street, cards[i])
    return out


def index_hands(street: int, cards: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Canonical indices of hands: int[n, 2 + k] (hole cards then board) -> int64[n].

    Raises
    ------
    ValueError
        On a bad street, a wrong shape, a code outside 0..51 or a card repeated within a row.
    """
    check_street(street)
    arr = as_card_matrix(cards, HOLE_SIZE + BOARD_SIZES[street], "index_hands")
    return _index_batch(street, arr)
