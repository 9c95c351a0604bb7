"""Random hands and a rank7 throughput loop shared by the evaluator and bucket benchmarks."""

from __future__ import annotations

import numpy as np

from holdemd.cards import rank7_codes
from holdemd.jit import kernel
from holdemd.solver.kernels.deal import draw_cards
from holdemd.solver.kernels.rng import make_rng_state


@kernel
def _deal_hands(n: int, width: int, rng: np.ndarray) -> np.ndarray:
    out = np.empty((n, width), dtype=np.int8)
    deck = np.arange(52, dtype=np.int64)
    cards = np.empty(width, dtype=np.int64)
    for i in range(n):
        draw_cards(deck, 52, width, rng, cards, 0)
        for j in range(width):
            out[i, j] = cards[j]
    return out


def random_hands(n: int, width: int, seed: int) -> np.ndarray:
    """int8[n, width] hands of distinct random cards."""
    return _deal_hands(n, width, make_rng_state(seed))


@kernel
def sum_rank7(hands: np.ndarray) -> int:
    """Sum of rank7_codes over the rows of int8[n, 7]."""
    total = 0
    for i in range(hands.shape[0]):
        h = hands[i]
        total += rank7_codes(h[0], h[1], h[2], h[3], h[4], h[5], h[6])
    return total
