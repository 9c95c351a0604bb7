"""Poker hand evaluator for 5, 6 and 7 cards, as numba kernels.

A hand's value is an integer in 1..7462, higher is better, equal values tie; the value of 6
or 7 cards is the value of their best 5-card hand, so values of 5, 6 and 7 cards compare with
each other. :func:`hand_category` gives the category (0 = high card ... 8 = straight flush).

Two layers:

* Scalar kernels for other numba code to call inline (they are ``@kernel``s and take card codes
  ``4 * rank + suit`` of any integer type):

  - :func:`rank7_codes` ``(c0, ..., c6) -> int32``: the fast path for showdowns, about
    4-5 ns per hand (no array, no loop);
  - :func:`rank6_codes`, :func:`rank5_codes`: likewise for 6 and 5 cards;
  - :func:`rank_cards` ``(cards) -> int32``: any 5, 6 or 7 cards in a 1-D array;
  - :func:`hand_category` ``(value) -> int``.

  Cards must be distinct and in 0..51; these kernels do not check (a check would cost as much
  as the evaluation).
* Batch functions for Python: :func:`rank7`, :func:`rank6`, :func:`rank5` take an integer
  array of shape (n, 7/6/5), validate it, and return int32[n].

How the value is computed is described in :mod:`holdemd.cards.evaluator_tables`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from holdemd.cards.codes import as_card_matrix
from holdemd.cards.evaluator_tables import (
    CARD_BIT,
    CARD_KEY,
    CATEGORY_OF_VALUE,
    CATEGORY_START,
    FLUSH_BIAS,
    FLUSH_BITS,
    FLUSH_VALUES,
    HASH_BUCKET_BITS,
    HASH_DISP,
    HASH_MULT_BUCKET,
    HASH_MULT_SLOT,
    HASH_SLOT_BITS,
    HASH_VALUES,
    HASH_WINDOW,
    RANK_KEY_MASK,
    SUIT_SHIFT,
)
from holdemd.jit import kernel

_WINDOW_MASK = (1 << HASH_WINDOW) - 1
_BUCKET_SHIFT = HASH_WINDOW - HASH_BUCKET_BITS
_SLOT_SHIFT = HASH_WINDOW - HASH_SLOT_BITS


@kernel
def _flush_value(flush: int, bits: int) -> np.int32:
    """Value of a hand holding a flush.

    Parameters
    ----------
    flush : int
        ``(key >> SUIT_SHIFT) & FLUSH_BITS`` of the hand: exactly one of 0x8, 0x80, 0x800,
        0x8000 (at most 9 cards cannot hold two flushes).
    bits : int
        OR of ``CARD_BIT`` of the hand's cards: rank masks of the suits, 16 bits apart.
    """
    # int() matters in plain Python, where numpy bools add up as a logical or.
    suit = int(flush > 0x8) + int(flush > 0x80) + int(flush > 0x800)
    return np.int32(FLUSH_VALUES[(bits >> (16 * suit)) & 0x1FFF])


@kernel
def _rank_key_value(key: int) -> np.int32:
    """Value of a hand without a flush, from its summed card keys (perfect-hash lookup)."""
    x = key & RANK_KEY_MASK
    bucket = ((x * HASH_MULT_BUCKET) & _WINDOW_MASK) >> _BUCKET_SHIFT
    slot = ((x * HASH_MULT_SLOT) & _WINDOW_MASK) >> _SLOT_SHIFT
    # Indices are non-negative; unsigned ones skip numba's wraparound test.
    return np.int32(HASH_VALUES[np.uintp(slot ^ HASH_DISP[np.uintp(bucket)])])


@kernel
def _key(card: int) -> int:
    """``CARD_KEY[card]``; the unsigned index spares numba's negative-index wraparound."""
    return CARD_KEY[np.uintp(card)]


@kernel
def _bit(card: int) -> int:
    """``CARD_BIT[card]`` (unsigned index, as in :func:`_key`)."""
    return CARD_BIT[np.uintp(card)]


@kernel
def rank7_codes(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int, c6: int) -> np.int32:
    """Value of the best 5-card hand among 7 distinct cards.

    Parameters
    ----------
    c0, c1, c2, c3, c4, c5, c6 : int
        Card codes 0..51, distinct, any integer type, any order.

    Returns
    -------
    numpy.int32
        Hand value in 1..7462, higher is better.
    """
    key = FLUSH_BIAS + _key(c0) + _key(c1) + _key(c2) + _key(c3) + _key(c4) + _key(c5) + _key(c6)
    flush = (key >> SUIT_SHIFT) & FLUSH_BITS
    if flush:  # about 3% of random hands: the rank bits are only gathered then
        bits = _bit(c0) | _bit(c1) | _bit(c2) | _bit(c3) | _bit(c4) | _bit(c5) | _bit(c6)
        return _flush_value(flush, bits)
    return _rank_key_value(key)


@kernel
def rank6_codes(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int) -> np.int32:
    """Value of the best 5-card hand among 6 distinct cards (see :func:`rank7_codes`).

    Parameters
    ----------
    c0, c1, c2, c3, c4, c5 : int
        Card codes 0..51, distinct, any integer type, any order.
    """
    key = FLUSH_BIAS + _key(c0) + _key(c1) + _key(c2) + _key(c3) + _key(c4) + _key(c5)
    flush = (key >> SUIT_SHIFT) & FLUSH_BITS
    if flush:
        bits = _bit(c0) | _bit(c1) | _bit(c2) | _bit(c3) | _bit(c4) | _bit(c5)
        return _flush_value(flush, bits)
    return _rank_key_value(key)


@kernel
def rank5_codes(c0: int, c1: int, c2: int, c3: int, c4: int) -> np.int32:
    """Value of 5 distinct cards (see :func:`rank7_codes`).

    Parameters
    ----------
    c0, c1, c2, c3, c4 : int
        Card codes 0..51, distinct, any integer type, any order.
    """
    key = FLUSH_BIAS + _key(c0) + _key(c1) + _key(c2) + _key(c3) + _key(c4)
    flush = (key >> SUIT_SHIFT) & FLUSH_BITS
    if flush:
        return _flush_value(flush, _bit(c0) | _bit(c1) | _bit(c2) | _bit(c3) | _bit(c4))
    return _rank_key_value(key)


@kernel
def rank_cards(cards: np.ndarray) -> np.int32:
    """Value of the best 5-card hand among 5, 6 or 7 distinct cards.

    Parameters
    ----------
    cards : int[k], 5 <= k <= 7
        Card codes; the length is not checked (other lengths give meaningless values).

    Returns
    -------
    numpy.int32
        Hand value in 1..7462.
    """
    key = FLUSH_BIAS
    for c in cards:
        key += _key(c)
    flush = (key >> SUIT_SHIFT) & FLUSH_BITS
    if flush:
        bits = 0
        for c in cards:
            bits |= _bit(c)
        return _flush_value(flush, bits)
    return _rank_key_value(key)


@kernel
def hand_category(value: int) -> int:
    """Category of a hand value: 0 high card, 1 pair, 2 two pair, 3 trips, 4 straight,
    5 flush, 6 full house, 7 quads, 8 straight flush (names in ``CATEGORY_NAMES``)."""
    return int(CATEGORY_OF_VALUE[value])


@kernel
def _rank_batch(hands: np.ndarray) -> np.ndarray:
    """int32[n] values of int[n, k] hands, k = 5, 6 or 7."""
    n, k = hands.shape
    out = np.empty(n, dtype=np.int32)
    if k == 7:
        for i in range(n):
            h = hands[i]
            out[i] = rank7_codes(h[0], h[1], h[2], h[3], h[4], h[5], h[6])
    elif k == 6:
        for i in range(n):
            h = hands[i]
            out[i] = rank6_codes(h[0], h[1], h[2], h[3], h[4], h[5])
    else:
        for i in range(n):
            h = hands[i]
            out[i] = rank5_codes(h[0], h[1], h[2], h[3], h[4])
    return out


def rank7(hands: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Values of 7-card hands: int[n, 7] card codes -> int32[n] (1..7462, higher is better)."""
    return _rank_batch(as_card_matrix(hands, 7, "rank7"))


def rank6(hands: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Values of 6-card hands: int[n, 6] card codes -> int32[n]."""
    return _rank_batch(as_card_matrix(hands, 6, "rank6"))


def rank5(hands: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Values of 5-card hands: int[n, 5] card codes -> int32[n]."""
    return _rank_batch(as_card_matrix(hands, 5, "rank5"))


def hand_categories(values: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Categories (0..8) of an array of hand values, vectorised :func:`hand_category`."""
    v = np.asarray(values)
    if v.size and (v.min() < 1 or v.max() > CATEGORY_START[-1] - 1):
        raise ValueError("hand values must lie in 1..7462")
    return CATEGORY_OF_VALUE[v]


_CHECKSUM_MOD = (1 << 31) - 1  # keeps every intermediate far below 2**63, even in plain Python


@kernel
def _mix(total: int, table: np.ndarray) -> int:
    """Fold a 1-D integer table into a running position-weighted checksum."""
    for i in range(table.size):
        total = (total * 31 + (i + 1) * (np.int64(table[i]) % _CHECKSUM_MOD)) % _CHECKSUM_MOD
    return total


@kernel
def _checksum(
    card_key: np.ndarray,
    card_bit: np.ndarray,
    flush_values: np.ndarray,
    hash_disp: np.ndarray,
    hash_values: np.ndarray,
    category_of_value: np.ndarray,
) -> int:
    """Checksum of the evaluator tables.

    Parameters
    ----------
    card_key : int64[52]
    card_bit : int64[52]
    flush_values : int16[8192]
    hash_disp : int32[2**HASH_BUCKET_BITS]
    hash_values : int16[2**HASH_SLOT_BITS]
    category_of_value : int8[7463]
        The tables of :mod:`holdemd.cards.evaluator_tables`, under their lower-case names.
    """
    total = _mix(0, card_key)
    total = _mix(total, card_bit)
    total = _mix(total, flush_values)
    total = _mix(total, hash_disp)
    total = _mix(total, hash_values)
    return _mix(total, category_of_value)


@kernel
def _frozen_checksum() -> int:
    """:func:`_checksum` of the tables as compiled into this module's (cached) kernels."""
    return (
        _checksum(CARD_KEY, CARD_BIT, FLUSH_VALUES, HASH_DISP, HASH_VALUES, CATEGORY_OF_VALUE)
        ^ HASH_MULT_BUCKET
        ^ HASH_MULT_SLOT
    )


def _check_cache_is_current() -> None:
    """Refuse stale numba caches: kernels cached with tables from an older evaluator_tables.py
    or hand_ranking.py would return wrong values silently (see
    :mod:`holdemd.cards.evaluator_tables`)."""
    live = _checksum(CARD_KEY, CARD_BIT, FLUSH_VALUES, HASH_DISP, HASH_VALUES, CATEGORY_OF_VALUE)
    if _frozen_checksum() != live ^ HASH_MULT_BUCKET ^ HASH_MULT_SLOT:
        from holdemd.jit import cache_dir

        raise RuntimeError(
            "holdemd.cards.evaluator: numba cache holds kernels built from other evaluator "
            f"tables; delete {cache_dir()} and retry"
        )


_check_cache_is_current()
