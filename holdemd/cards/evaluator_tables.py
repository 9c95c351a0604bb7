"""Lookup tables of the hand evaluator, built at import in a few milliseconds.

How a hand of 5 to 7 cards becomes a value (see :mod:`holdemd.cards.evaluator`):

* Every card has a 64-bit key, ``CARD_KEY[c] = 5**rank + (1 << (32 + 4*suit))``. The sum of a
  hand's keys therefore holds, in its low 31 bits, the rank multiset as a base-5 number (a rank
  occurs at most 4 times, so the digits never carry) and, in bits 32..47, one 4-bit counter per
  suit. The counters start at 3 (``FLUSH_BIAS``), so a suit with 5 or more cards sets bit 3 of
  its nibble: ``sum >> 32 & 0x8888`` is non-zero exactly for hands holding a flush.
* A hand with a flush is worth the best hand among its flush-suit cards: with at most 7 cards,
  5 of one suit leave at most 2 others, too few for quads or a full house, which are the only
  hands beating a flush. ``FLUSH_VALUES`` maps the 13-bit rank mask of the flush suit to that
  value (straight flush or flush).
* Any other hand is worth the best hand of its rank multiset. The 73,775 multisets of 5, 6 or 7
  ranks (each rank at most 4 times) are mapped to slots of ``HASH_VALUES`` by a perfect hash
  ("hash and displace"): two multiplicative hashes of the base-5 key give a bucket
  and a slot, and the slot is XOR-ed with the bucket's displacement ``HASH_DISP[bucket]``,
  chosen at build time so that no two multisets share a slot. Two multiplications and two
  loads from tables that fit in L2 replace any search.

Hand values are dense: 1..7462 from the worst high card (7-5-4-3-2) to the royal flush, equal
values tie, and the 5-card classes of each category are contiguous (``CATEGORY_START``). The
multiplicative hashes keep every product below 2**63 (keys < 5**13 < 2**31, multipliers
< 2**32), so the same code runs in plain Python under ``NUMBA_DISABLE_JIT=1`` without integer
overflow.

What beats what (each class's strength, the categories) is in
:mod:`holdemd.cards.hand_ranking`; this module turns it into the value tables and the perfect
hash that the evaluator's kernels read.

Nothing here is downloaded or unpickled; the tables are a pure function of the constants here
and in hand_ranking. Kernels that read them as globals freeze them into their (cached)
machine code, and numba only invalidates a cache when the kernel's own file changes: if this
file or hand_ranking.py changes, clear the numba caches (``__pycache__/*.nbi``, ``*.nbc``) of
modules calling the evaluator. :mod:`holdemd.cards.evaluator` detects this for its own
kernels at import.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holdemd.cards.hand_ranking import NUM_VALUES, class_tables
from holdemd.jit import kernel

SUIT_SHIFT = 32  # suit counters live in bits 32..47 of a hand key
RANK_KEY_MASK = (1 << SUIT_SHIFT) - 1
FLUSH_BIAS = 0x3333 << SUIT_SHIFT
FLUSH_BITS = 0x8888

# Perfect hash geometry. 73,775 keys in 2**17 slots (load 0.56) and 2**15 buckets (2.25 keys
# per bucket) make the greedy displacement search succeed at once; the values table is 256 KiB
# of int16 and the displacements 128 KiB, both L2-resident.
HASH_SLOT_BITS = 17
HASH_BUCKET_BITS = 15
HASH_WINDOW = 40  # products are reduced mod 2**40 and their top bits taken: all 31 key bits mix
# Odd multipliers below 2**32; the first pair of HASH_MULT_CANDIDATES that yields a perfect
# hash is used. Listing a known-good pair first keeps import fast.
HASH_MULT_CANDIDATES: tuple[tuple[int, int], ...] = (
    (0x9E3779B1, 0x85EBCA77),
    (0xC2B2AE3D, 0x27D4EB2F),
    (0x165667B1, 0xD3A2646D),
    (0xFD7046C5, 0xB55A4F09),
)


@kernel
def _hash_parts(key: int, mult: int, bits: int) -> int:
    """Top ``bits`` bits of ``key * mult mod 2**HASH_WINDOW`` (no product reaches 2**63).

    Parameters
    ----------
    key : int
        A rank key.
    mult : int
        The hash multiplier (``HASH_MULT_BUCKET`` or ``HASH_MULT_SLOT``).
    bits : int
        Bits of the result (``HASH_BUCKET_BITS`` or ``HASH_SLOT_BITS``).
    """
    return ((key * mult) & ((1 << HASH_WINDOW) - 1)) >> (HASH_WINDOW - bits)


@kernel
def _build_displacements(keys: np.ndarray, mult_bucket: int, mult_slot: int) -> np.ndarray:
    """Greedy hash-and-displace: a displacement per bucket making ``slot ^ disp`` injective.

    Buckets are placed largest first, each with the smallest displacement whose slots are all
    free. Returns int32[2**HASH_BUCKET_BITS], or an empty array if some bucket holds two keys
    with the same slot hash (then no displacement can separate them; try other multipliers).

    Parameters
    ----------
    keys : int64[n]
        The distinct rank keys to place.
    mult_bucket, mult_slot : int
        Hash multipliers of the bucket and of the slot within it.
    """
    nb = 1 << HASH_BUCKET_BITS
    ns = 1 << HASH_SLOT_BITS
    bucket = np.empty(keys.size, dtype=np.int64)
    slot = np.empty(keys.size, dtype=np.int64)
    size = np.zeros(nb, dtype=np.int64)
    for i in range(keys.size):
        bucket[i] = _hash_parts(keys[i], mult_bucket, HASH_BUCKET_BITS)
        slot[i] = _hash_parts(keys[i], mult_slot, HASH_SLOT_BITS)
        size[bucket[i]] += 1
    # Members of each bucket, contiguous (counting sort by bucket).
    start = np.zeros(nb + 1, dtype=np.int64)
    for b in range(nb):
        start[b + 1] = start[b] + size[b]
    fill = start[:-1].copy()
    members = np.empty(keys.size, dtype=np.int64)
    for i in range(keys.size):
        members[fill[bucket[i]]] = i
        fill[bucket[i]] += 1
    order = np.argsort(-size, kind="mergesort")
    used = np.zeros(ns, dtype=np.bool_)
    disp = np.zeros(nb, dtype=np.int32)
    for b in order:
        lo, hi = start[b], start[b + 1]
        if lo == hi:
            break  # sorted by size: the rest are empty
        for j in range(lo, hi):
            for jj in range(lo, j):
                if slot[members[j]] == slot[members[jj]]:
                    return np.zeros(0, dtype=np.int32)
        for d in range(ns):
            ok = True
            for j in range(lo, hi):
                if used[slot[members[j]] ^ d]:
                    ok = False
                    break
            if ok:
                for j in range(lo, hi):
                    used[slot[members[j]] ^ d] = True
                disp[b] = d
                break
    return disp


class EvaluatorTables(NamedTuple):
    """Every table the evaluator kernels read (see the module docstring for their meaning)."""

    card_key: np.ndarray  # int64[52]
    card_bit: np.ndarray  # int64[52]: 1 << (16*suit + rank), to collect a flush suit's ranks
    flush_values: np.ndarray  # int16[8192]
    hash_disp: np.ndarray  # int32[2**HASH_BUCKET_BITS]
    hash_values: np.ndarray  # int16[2**HASH_SLOT_BITS]
    category_start: np.ndarray  # int32[10]: first value of each category, then 7463
    category_of_value: np.ndarray  # int8[7463]; entry 0 (no hand) is -1
    mult_bucket: int
    mult_slot: int


def build_tables() -> EvaluatorTables:
    """Build the evaluator tables (a few ms with compiled builders)."""
    five, keys, strengths, flush = class_tables()
    if five.size != NUM_VALUES:
        raise AssertionError(f"{five.size} distinct 5-card classes, expected {NUM_VALUES}")
    values = (np.searchsorted(five, strengths) + 1).astype(np.int16)
    flush_values = np.where(flush >= 0, np.searchsorted(five, flush) + 1, 0).astype(np.int16)
    for mult_bucket, mult_slot in HASH_MULT_CANDIDATES:
        disp = _build_displacements(keys, mult_bucket, mult_slot)
        if disp.size:
            break
    else:
        raise AssertionError("no perfect hash found for the evaluator's rank multisets")
    window = (1 << HASH_WINDOW) - 1
    bucket = ((keys * mult_bucket) & window) >> (HASH_WINDOW - HASH_BUCKET_BITS)
    slot = (((keys * mult_slot) & window) >> (HASH_WINDOW - HASH_SLOT_BITS)) ^ disp[bucket]
    hash_values = np.zeros(1 << HASH_SLOT_BITS, dtype=np.int16)
    hash_values[slot] = values
    categories = five // 13**5
    category_start = np.searchsorted(categories, np.arange(10)).astype(np.int32) + 1
    category_of_value = np.concatenate(([-1], categories)).astype(np.int8)
    ranks = np.arange(52) >> 2
    suits = np.arange(52) & 3
    card_key = (5**ranks + (1 << (SUIT_SHIFT + 4 * suits))).astype(np.int64)
    card_bit = (np.int64(1) << (16 * suits + ranks)).astype(np.int64)
    return EvaluatorTables(
        card_key=card_key,
        card_bit=card_bit,
        flush_values=flush_values,
        hash_disp=disp,
        hash_values=hash_values,
        category_start=category_start,
        category_of_value=category_of_value,
        mult_bucket=mult_bucket,
        mult_slot=mult_slot,
    )


#: The tables, built once at import. The kernels read the arrays below as globals.
TABLES = build_tables()
CARD_KEY = TABLES.card_key
CARD_BIT = TABLES.card_bit
FLUSH_VALUES = TABLES.flush_values
HASH_DISP = TABLES.hash_disp
HASH_VALUES = TABLES.hash_values
CATEGORY_START = TABLES.category_start
CATEGORY_OF_VALUE = TABLES.category_of_value
HASH_MULT_BUCKET = TABLES.mult_bucket
HASH_MULT_SLOT = TABLES.mult_slot
