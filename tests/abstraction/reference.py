"""Slow, direct references for the abstraction tests: one hand at a time, from the river
equity of :func:`holdemd.abstraction.equity.board_equities` (itself checked by brute force)."""

from __future__ import annotations

import numpy as np

from holdemd.abstraction.equity import board_equities
from holdemd.abstraction.histograms import equity_bin


def river_numerator(hole: np.ndarray, board: np.ndarray) -> int:
    c0, c1, numer = board_equities(np.asarray(board, dtype=np.int64))
    lo, hi = sorted(int(c) for c in hole)
    (position,) = np.flatnonzero((c0 == lo) & (c1 == hi))
    return int(numer[position])


def turn_histogram(hole: np.ndarray, board: np.ndarray, bins: int) -> np.ndarray:
    """int64[bins]: river equity of a turn hand over its 46 river cards, binned."""
    used = {int(c) for c in hole} | {int(c) for c in board}
    hist = np.zeros(bins, dtype=np.int64)
    for river in range(52):
        if river not in used:
            numer = river_numerator(hole, np.append(board, river))
            hist[equity_bin(numer, bins)] += 1
    return hist


def turn_row(hole: np.ndarray, board: np.ndarray, bins: int) -> np.ndarray:
    return np.cumsum(turn_histogram(hole, board, bins))[:-1]
