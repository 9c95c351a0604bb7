"""Random hands and a rank7 throughput loop shared by the evaluator and bucket benchmarks."""

from __future__ import annotations

import numpy as np

from holdemd.cards import rank7_codes
from holdemd.jit import kernel


@kernel
def random_hands(n: int, width: int, seed: int) -> np.ndarray:
    """int8[n, width] hands of distinct random cards (rejection sampling on a 52-bit mask)."""
    np.random.seed(seed)
    out = np.empty((n, width), dtype=np.int8)
    for i in range(n):
        used = 0
        j = 0
        while j < width:
            c = np.random.randint(0, 52)
            if not (used >> c) & 1:
                used |= 1 << c
                out[i, j] = c
                j += 1
    return out


@kernel
def sum_rank7(hands: np.ndarray) -> int:
    """Sum of rank7_codes over the rows of int8[n, 7]."""
    total = 0
    for i in range(hands.shape[0]):
        h = hands[i]
        total += rank7_codes(h[0], h[1], h[2], h[3], h[4], h[5], h[6])
    return total
