"""Random raw deals, as hand indices: the training sample of the clustering.

Drawing deals (rather than indices) weights each index by how many raw hands it stands for,
so clusters are fitted to hands as often as they occur at the table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from holdemd.cards import BOARD_SIZES, index_from_bits, suit_rank_bit
from holdemd.jit import inline_kernel, kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@inline_kernel
def _splitmix64(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """Next (state, output) of SplitMix64."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@kernel
def _sample(street: int, board_size: int, n: int, seed: int) -> np.ndarray:
    """int64[n] indices of ``n`` uniformly random deals of ``street`` (SplitMix64 stream)."""
    out = np.empty(n, dtype=np.int64)
    state = np.uint64(seed) * _GOLDEN
    for i in range(n):
        used = np.int64(0)
        hole_bits = np.int64(0)
        board_bits = np.int64(0)
        dealt = 0
        while dealt < 2 + board_size:
            state, r = _splitmix64(state)
            card = np.int64(r % np.uint64(52))
            bit = suit_rank_bit(card)
            if used & bit:
                continue
            used |= bit
            if dealt < 2:
                hole_bits |= bit
            else:
                board_bits |= bit
            dealt += 1
        out[i] = index_from_bits(street, hole_bits, board_bits)
    return out


def sample_indices(street: int, n: int, seed: int) -> npt.NDArray[np.int64]:
    """Indices of ``n`` random deals of ``street`` (1 flop, 2 turn, 3 river), deterministic
    for ``seed``."""
    if street not in (1, 2, 3):
        raise ValueError(f"street must be 1..3, got {street}")
    return _sample(street, BOARD_SIZES[street], n, seed)
