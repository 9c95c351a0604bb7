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

The method follows the idea of Waugh, "A Fast and Optimal Hand Isomorphism Algorithm" (2013);
the code is our own. For each suit, the ranks it holds in the hole and on the board form a
*suit pattern*; the suit's shape ``(m0, m1)`` (hole cards, board cards of that suit) and the
two rank sets are ranked as one number: the colex rank of the hole set among 13 ranks, times
``C(13 - m0, m1)``, plus the colex rank of the board set among the ranks left free by the hole.
A hand is its multiset of suit patterns. Sorting the four suits by (shape, pattern rank) gives
the canonical suit order; the sorted shapes are the hand's *configuration*, which owns a
contiguous block of indices (``_CFG_OFFSET``). Inside the block, suits of equal shape are
interchangeable, so each run of equal shapes is ranked as a multiset (combinations with
repetition) and the runs are combined in mixed radix.

Preflop has its own, readable order: pairs ``22..AA`` are 0..12, suited hands 13..90 and
offsuit hands 91..168, each ordered by (high rank, low rank) ascending, so ``32s`` = 13,
``AKs`` = 90, ``32o`` = 91, ``AKo`` = 168. :func:`preflop_class_name` and
:func:`preflop_class_index` translate, and :func:`preflop_grid_position` places a class in the
usual 13x13 chart.

Kernels for numba callers (scalar, allocation free): :func:`index_hand`, :func:`index_cards`,
:func:`preflop_index`, :func:`index_from_bits` with :func:`suit_rank_bit` (to OR a shared board
once and index many hole pairs against it), :func:`unindex_into`. Batch functions for Python:
:func:`index_hands`, :func:`unindex_hands`.

One algorithm over the 400-line guideline on purpose: indexing and un-indexing read the same
configuration tables and must stay exact inverses (tests/cards checks every flop class both
ways), so they live, and change, together.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import numpy.typing as npt

from holdemd.cards.codes import RANK_CHARS, as_card_matrix
from holdemd.errors import UsageError
from holdemd.jit import kernel

PREFLOP, FLOP, TURN, RIVER = 0, 1, 2, 3
STREET_NAMES: tuple[str, ...] = ("preflop", "flop", "turn", "river")
BOARD_SIZES: tuple[int, ...] = (0, 3, 4, 5)
HOLE_SIZE = 2
_SHAPES = 18  # shape code m0 * 6 + m1, m0 in 0..2 hole cards, m1 in 0..5 board cards


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


_POPCOUNT, _COLEX, _UNCOLEX = _build_bit_tables()
# _BOARD_SPAN[shape] = C(13 - m0, m1): board sets possible next to a hole set of size m0.
_BOARD_SPAN = np.array([comb(13 - s // 6, s % 6) for s in range(_SHAPES)], dtype=np.int64)
# _SUIT_SIZE[shape] = number of suit patterns of that shape.
_SUIT_SIZE = np.array([comb(13, s // 6) * _BOARD_SPAN[s] for s in range(_SHAPES)], dtype=np.int64)


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
    lookup = np.full((4, _SHAPES**3), -1, dtype=np.int64)
    num = np.zeros(4, dtype=np.int64)
    for street, configs in enumerate(per_street):
        total = 0
        for c, config in enumerate(configs):
            shapes[street, c] = config
            offset[street, c] = total
            lookup[street, config[0] * _SHAPES**2 + config[1] * _SHAPES + config[2]] = c
            size = 1
            for shape, run in itertools.groupby(config):
                size *= _multiset_count(int(_SUIT_SIZE[shape]), len(list(run)))
            total += size
        offset[street, len(configs) :] = total
        num[street] = total
    return shapes, offset, lookup, num


_CFG_SHAPES, _CFG_OFFSET, _CFG_LOOKUP, _NUM_INDICES = _build_config_tables()
_NUM_INDICES[PREFLOP] = 169  # preflop uses its own order (same count, checked in tests)


def num_indices(street: int) -> int:
    """Number of suit-isomorphic classes of ``street`` (0 preflop .. 3 river)."""
    _check_street(street)
    return int(_NUM_INDICES[street])


def _check_street(street: int) -> None:
    if street not in (PREFLOP, FLOP, TURN, RIVER):
        raise ValueError(f"street must be 0..3 (preflop..river), got {street}")


@kernel
def _choose(n: int, k: int) -> int:
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
def preflop_index(c0: int, c1: int) -> int:
    """Preflop class of two distinct cards: pairs 0..12, suited 13..90, offsuit 91..168."""
    r0 = np.int64(c0) >> 2  # widen: int8 arithmetic would overflow in plain Python
    r1 = np.int64(c1) >> 2
    if r0 == r1:
        return r0
    hi = max(r0, r1)
    lo = min(r0, r1)
    pos = hi * (hi - 1) // 2 + lo  # colex rank of {lo, hi}: 0..77
    if (c0 & 3) == (c1 & 3):
        return 13 + pos
    return 91 + pos


@kernel
def _preflop_ranks(index: int) -> tuple[int, int]:
    """(high rank, low rank) of preflop class ``index`` (inverse of :func:`_preflop_index`)."""
    if index < 13:
        return index, index
    pos = index - 13 if index < 91 else index - 91
    hi = 1
    while (hi + 1) * hi // 2 <= pos:
        hi += 1
    return hi, pos - hi * (hi - 1) // 2


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
    shape = _POPCOUNT[h] * 6 + _POPCOUNT[b]
    # Squeeze the hole ranks out of the board set (lowest first; each removal shifts the
    # later positions down by one), so the board set is ranked among the free ranks only.
    rest = h
    removed = 0
    while rest:
        low = rest & -rest
        pos = _POPCOUNT[low - 1] - removed
        b = (b & ((1 << pos) - 1)) | ((b >> (pos + 1)) << pos)
        removed += 1
        rest ^= low
    return (shape << 16) | (_COLEX[h] * _BOARD_SPAN[shape] + _COLEX[b])


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
def _preflop_index_from_bits(hole_bits: int) -> int:
    """:func:`preflop_index` of the two cards whose :func:`suit_rank_bit` are ORed in
    ``hole_bits``."""
    cards = np.int64(0)  # the two codes, 8 bits apart
    n = 0
    for suit in range(4):
        for r in range(13):
            if (hole_bits >> (16 * suit + r)) & 1:
                cards |= np.int64(4 * r + suit) << (8 * n)
                n += 1
    return preflop_index(cards & 0xFF, cards >> 8)


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
        return _preflop_index_from_bits(hole_bits)
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
    config = _CFG_LOOKUP[street, (a0 >> 16) * 324 + (a1 >> 16) * 18 + (a2 >> 16)]
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
            radix *= _SUIT_SIZE[shape]
        else:
            # Multiset rank of the run's pattern ranks x_0 >= x_1 >= ...: the strictly
            # decreasing x_t + (k-1-t) ranked in colex order.
            rank = 0
            for t in range(k):
                x = _pick(p + t, a0, a1, a2, a3) & 0xFFFF
                rank += _choose(x + k - 1 - t, k - t)
            index += rank * radix
            radix *= _choose(_SUIT_SIZE[shape] + k - 1, k)
        p = q
    return _CFG_OFFSET[street, config] + index


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
            if _choose(mid, m) <= rank:
                lo = mid
            else:
                hi = mid - 1
        rank -= _choose(lo, m)
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
        hi, lo = _preflop_ranks(index)
        out[0] = 4 * lo
        out[1] = 4 * hi + (1 if index < 13 or index >= 91 else 0)  # pairs, offsuit: 2 suits
        return
    offsets = _CFG_OFFSET[street]
    config = np.searchsorted(offsets, index, side="right") - 1
    rest = index - offsets[config]
    shapes = _CFG_SHAPES[street, config]
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
        n = _SUIT_SIZE[shapes[p]]
        size = _choose(n + k - 1, k)
        patterns |= _unrank_multiset(rest % size, k, n, p)
        rest //= size
        p = q
    hole_bits = 0
    board_bits = 0
    for suit in range(4):  # canonical position p becomes suit p
        shape = shapes[suit]
        span = _BOARD_SPAN[shape]
        pattern = (patterns >> (16 * suit)) & 0xFFFF
        h = _UNCOLEX[shape // 6, pattern // span]
        b = _UNCOLEX[shape % 6, pattern % span]
        # Put the hole ranks back into the board set (lowest first).
        rest_h = h
        while rest_h:
            low = rest_h & -rest_h
            pos = _POPCOUNT[low - 1]
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


def index_hands(street: int, cards: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Canonical indices of hands: int[n, 2 + k] (hole cards then board) -> int64[n].

    Raises
    ------
    ValueError
        On a bad street, a wrong shape, a code outside 0..51 or a card repeated within a row.
    """
    _check_street(street)
    arr = as_card_matrix(cards, HOLE_SIZE + BOARD_SIZES[street], "index_hands")
    return _index_batch(street, arr)


def unindex_hand(street: int, index: int) -> npt.NDArray[np.int8]:
    """A representative hand of class ``index``: int8[2 + k], hole cards then board."""
    return unindex_hands(street, np.array([index]))[0]


def unindex_hands(street: int, indices: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Representative hands of classes: int[n] -> int8[n, 2 + k]."""
    _check_street(street)
    idx = np.ascontiguousarray(np.asarray(indices, dtype=np.int64).reshape(-1))
    if idx.size and (idx.min() < 0 or idx.max() >= _NUM_INDICES[street]):
        raise ValueError(
            f"{STREET_NAMES[street]} indices must lie in 0..{int(_NUM_INDICES[street]) - 1}"
        )
    return _unindex_batch(street, idx, HOLE_SIZE + BOARD_SIZES[street])


def preflop_class_name(index: int) -> str:
    """Name of a preflop class: ``"AA"``, ``"AKs"``, ``"72o"`` (higher rank first)."""
    if not 0 <= index < 169:
        raise ValueError(f"preflop index must lie in 0..168, got {index}")
    hi, lo = _preflop_ranks(index)
    suffix = "" if index < 13 else "s" if index < 91 else "o"
    return RANK_CHARS[hi] + RANK_CHARS[lo] + suffix


def preflop_class_index(name: str) -> int:
    """Index of a preflop class name such as ``"AKs"``, ``"ak o"``, ``"TT"`` or ``"KAs"``.

    Raises
    ------
    UsageError
        If ``name`` is not a pair (``"TT"``) or two ranks plus ``s``/``o``.
    """
    text = "".join(name.split()).upper().replace("10", "T")
    ok = len(text) in (2, 3) and all(ch in RANK_CHARS for ch in text[:2])
    if ok:
        r0, r1 = RANK_CHARS.index(text[0]), RANK_CHARS.index(text[1])
        suffix = text[2:]
        if r0 == r1 and suffix == "":
            return r0
        if r0 != r1 and suffix in ("S", "O"):
            hi, lo = max(r0, r1), min(r0, r1)
            return (13 if suffix == "S" else 91) + hi * (hi - 1) // 2 + lo
    raise UsageError(
        f"bad preflop class {name!r}: expected a pair like 'TT' or two ranks and s/o like 'AKs'"
    )


def preflop_grid_position(index: int) -> tuple[int, int]:
    """(row, column) of a preflop class in the usual 13x13 chart: aces first, pairs on the
    diagonal, suited hands above it (row = high rank) and offsuit below (column = high rank)."""
    name = preflop_class_name(index)
    hi = 12 - RANK_CHARS.index(name[0])
    lo = 12 - RANK_CHARS.index(name[1])
    if len(name) == 2 or name[2] == "s":
        return hi, lo
    return lo, hi
