"""The numba entry of the real-game best response (see `holdemd.evaluation.rgbr` for the method).

`rgbr_boards` runs `holdemd.evaluation.rgbr_walk.board_values`, the walk of one sampled board
with range vectors over the hole pairs, for every sampled board in parallel; `Tree` is the
part of the betting tree that walk reads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import prange

from holdemd.evaluation.rgbr_walk import board_values
from holdemd.jit import parallel_kernel


class Tree(NamedTuple):
    """The parts of `GameArrays` the walk reads (plain arrays: numba's parallel loops cannot
    take GameArrays' tuple of bucket tables)."""

    node_player: np.ndarray
    node_street: np.ndarray
    node_num_actions: np.ndarray
    node_children: np.ndarray
    node_row_base: np.ndarray
    node_terminal: np.ndarray
    node_contrib: np.ndarray
    node_alive: np.ndarray


@parallel_kernel
def rgbr_boards(
    g,
    probs,
    pairs,
    card_pairs,
    frontier,
    frontier_reach,
    num_board,
    first_br_street,
    max_depth,
    tables,
    out,
    out_gain,
    with_gains,
):
    """`board_values` for every board of ``tables``, in parallel over boards.

    Parameters
    ----------
    g : Tree
    probs : float64[rows, A]
    pairs : int64[K, 2]
    card_pairs : int64[52, C]
    frontier : int64[R]
    frontier_reach : float64[R, 2, K]
    num_board : int
    first_br_street : int
    max_depth : int
    tables : BoardTables
    out : float64[B, R, 2, K], out
    out_gain : float64[B, R, 2, 4, K], out
    with_gains : bool
    """
    for b in prange(out.shape[0]):
        board_values(
            g,
            probs,
            pairs,
            card_pairs,
            frontier,
            frontier_reach,
            num_board,
            first_br_street,
            max_depth,
            tables,
            b,
            out[b],
            out_gain[b],
            with_gains,
        )
