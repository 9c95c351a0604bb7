"""Suit-canonical boards: one representative per class of boards under suit relabelling.

Equity passes iterate over boards rather than over hand indices: on one board every hole
pair is evaluated once and sorted once, and all their equities follow from one sweep. Suit
relabelling changes no equity, so one board per class is enough, and every hand index of the
street is reached from its class's representative (relabel the hand until its board is the
representative).

A board is canonical when its per-suit 13-bit rank masks are in non-increasing order
(clubs >= diamonds >= hearts >= spades). The masks of a class are a multiset, so exactly one
ordering of them is sorted: one representative per class. A class holds ``24 / s`` boards,
``s`` being the number of suit permutations that fix the board (the product of the factorials
of the runs of equal masks, empty suits included).
"""

from __future__ import annotations

from math import comb

import numpy as np

from holdemd.jit import kernel


@kernel
def _class_size(m0: int, m1: int, m2: int, m3: int) -> int:
    """Boards in the class of a canonical board with sorted suit masks ``m0 >= ... >= m3``.

    Parameters
    ----------
    m0, m1, m2, m3 : int
        The board's 13-bit rank mask of each suit, non-increasing.
    """
    stabilizer = 1
    run = 1
    prev = m0
    for m in (m1, m2, m3):
        if m == prev:
            run += 1
            stabilizer *= run
        else:
            run = 1
        prev = m
    return 24 // stabilizer


@kernel
def _canonical_boards(size: int, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Canonical boards of ``size`` cards, in lexicographic order of their card codes.

    Parameters
    ----------
    size : int
        Board size, 1..5.
    capacity : int
        Upper bound on the number of canonical boards (the output is cut to the real count).

    Returns
    -------
    boards : int8[n, size]
        Card codes, ascending within a row.
    class_sizes : int64[n]
        Number of boards suit-isomorphic to each row (they sum to C(52, size)).
    """
    boards = np.empty((capacity, size), dtype=np.int8)
    class_sizes = np.empty(capacity, dtype=np.int64)
    combo = np.arange(size)
    n = 0
    while True:
        masks = np.zeros(4, dtype=np.int64)
        for c in combo:
            masks[c & 3] |= np.int64(1) << (c >> 2)
        if masks[0] >= masks[1] and masks[1] >= masks[2] and masks[2] >= masks[3]:
            boards[n] = combo
            class_sizes[n] = _class_size(masks[0], masks[1], masks[2], masks[3])
            n += 1
        # Next combination in lexicographic order (iterative: no recursion in cached kernels).
        i = size - 1
        while i >= 0 and combo[i] == 52 - size + i:
            i -= 1
        if i < 0:
            break
        combo[i] += 1
        for j in range(i + 1, size):
            combo[j] = combo[j - 1] + 1
    return boards[:n].copy(), class_sizes[:n].copy()


def canonical_boards(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(boards int8[n, size], class_sizes int64[n])``: one board per suit-isomorphism class.

    ``size`` 3, 4 and 5 give 1,755, 16,432 and 134,459 boards; ``class_sizes`` sums to
    ``C(52, size)``.
    """
    if not 1 <= size <= 5:
        raise ValueError(f"board size must be 1..5, got {size}")
    return _canonical_boards(size, comb(52, size) // 24 + 4 * comb(52, size - 1))
