"""The 169 preflop classes: their index, their names and their place in the 13x13 chart.

Preflop has its own, readable order: pairs ``22..AA`` are 0..12, suited hands 13..90 and
offsuit hands 91..168, each ordered by (high rank, low rank) ascending, so ``32s`` = 13,
``AKs`` = 90, ``32o`` = 91, ``AKo`` = 168 (the blueprint format documents this order).
:func:`preflop_class_name` and :func:`preflop_class_index` translate, and
:func:`preflop_grid_position` places a class in the usual 13x13 chart. The later streets'
classes are in :mod:`holdemd.cards.isomorphism`, which calls the kernels here for street 0.
"""

from __future__ import annotations

import numpy as np

from holdemd.cards.codes import RANK_CHARS
from holdemd.errors import UsageError
from holdemd.jit import kernel


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
def preflop_ranks(index: int) -> tuple[int, int]:
    """(high rank, low rank) of preflop class ``index`` (inverse of :func:`preflop_index`)."""
    if index < 13:
        return index, index
    pos = index - 13 if index < 91 else index - 91
    hi = 1
    while (hi + 1) * hi // 2 <= pos:
        hi += 1
    return hi, pos - hi * (hi - 1) // 2


@kernel
def preflop_index_from_bits(hole_bits: int) -> int:
    """:func:`preflop_index` of the two cards whose ``suit_rank_bit`` are ORed in
    ``hole_bits`` (see :func:`holdemd.cards.isomorphism.suit_rank_bit`)."""
    cards = np.int64(0)  # the two codes, 8 bits apart
    n = 0
    for suit in range(4):
        for r in range(13):
            if (hole_bits >> (16 * suit + r)) & 1:
                cards |= np.int64(4 * r + suit) << (8 * n)
                n += 1
    return preflop_index(cards & 0xFF, cards >> 8)


def preflop_class_name(index: int) -> str:
    """Name of a preflop class: ``"AA"``, ``"AKs"``, ``"72o"`` (higher rank first)."""
    if not 0 <= index < 169:
        raise ValueError(f"preflop index must lie in 0..168, got {index}")
    hi, lo = preflop_ranks(index)
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
