"""Random raw deals, as hand indices: the training sample of the clustering.

Drawing deals (rather than indices) weights each index by how many raw hands it stands for,
so clusters are fitted to hands as often as they occur at the table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from holdemd.cards import BOARD_SIZES, index_from_bits, suit_rank_bit
from holdemd.jit import kernel
from holdemd.solver.kernels.deal import draw_cards
from holdemd.solver.kernels.rng import make_rng_state


@kernel
def _sample(street: int, board_size: int, n: int, rng: np.ndarray) -> np.ndarray:
    """int64[n] indices of ``n`` uniformly random deals of ``street``.

    Parameters
    ----------
    street : int
        1 flop, 2 turn, 3 river.
    board_size : int
        Board cards on ``street`` (3, 4 or 5).
    n : int
        Deals to draw.
    rng : uint64[1]
        Generator state, advanced.
    """
    out = np.empty(n, dtype=np.int64)
    deck = np.arange(52, dtype=np.int64)
    cards = np.empty(2 + board_size, dtype=np.int64)
    for i in range(n):
        draw_cards(deck, 52, 2 + board_size, rng, cards, 0)
        hole_bits = suit_rank_bit(cards[0]) | suit_rank_bit(cards[1])
        board_bits = np.int64(0)
        for j in range(2, 2 + board_size):
            board_bits |= suit_rank_bit(cards[j])
        out[i] = index_from_bits(street, hole_bits, board_bits)
    return out


def sample_indices(street: int, n: int, seed: int) -> npt.NDArray[np.int64]:
    """Indices of ``n`` random deals of ``street`` (1 flop, 2 turn, 3 river), deterministic
    for ``seed``."""
    if street not in (1, 2, 3):
        raise ValueError(f"street must be 1..3, got {street}")
    return _sample(street, BOARD_SIZES[street], n, make_rng_state(seed))
