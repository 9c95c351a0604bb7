"""Per sampled board, what the real-game best response's walk looks up: the pairs' buckets on
every completion of the board, their showdown ranks and their order by rank
(`holdemd.evaluation.rgbr_walk` walks the tree with them, looking them up through
`five_index` and `street_buckets`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holdemd.cards import rank7_codes
from holdemd.cards.isomorphism import suit_rank_bit
from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.deal import hole_pair_bucket


class BoardTables(NamedTuple):
    """Per sampled board (first axis), what `board_tables` and `prepare_boards` compute."""

    rest: np.ndarray  # int64[B, M]: deck cards not on the board
    fits: np.ndarray  # bool[B, K]: pairs that miss the board
    flop_buckets: np.ndarray  # int32[B, K]
    turn_buckets: np.ndarray  # int32[B, T, K]
    river_buckets: np.ndarray  # int32[B, F, K]
    rank: np.ndarray  # int32[B, F, K]
    order: np.ndarray  # int32[B, F, K]
    valid: np.ndarray  # int64[B, F]


@kernel
def prepare_boards(g, pairs, boards, num_board, tables):
    """Fill ``tables`` for each board.

    Parameters
    ----------
    g : GameArrays
    pairs : int64[K, 2]
    boards : int64[B, 5]
    num_board : int
    tables : BoardTables, out
    """
    deck_size = g.deck.shape[0]
    num_pairs = pairs.shape[0]
    on_board = np.zeros(52, dtype=np.bool_)
    for b in range(boards.shape[0]):
        board = boards[b]
        on_board[:] = False
        for i in range(num_board):
            on_board[board[i]] = True
        m = 0
        for i in range(deck_size):
            if not on_board[g.deck[i]]:
                tables.rest[b, m] = g.deck[i]
                m += 1
        board_tables(
            g,
            pairs,
            board,
            num_board,
            tables.rest[b],
            tables.turn_buckets[b],
            tables.river_buckets[b],
            tables.rank[b],
            tables.order[b],
            tables.valid[b],
        )
        flop_bits = suit_rank_bit(board[0]) | suit_rank_bit(board[1]) | suit_rank_bit(board[2])
        for k in range(num_pairs):
            c0 = pairs[k, 0]
            c1 = pairs[k, 1]
            tables.flop_buckets[b, k] = hole_pair_bucket(g, 1, c0, c1, flop_bits)
            tables.fits[b, k] = not (on_board[c0] or on_board[c1])


@kernel
def board_tables(g, pairs, board, num_board, rest, turn_buckets, river_buckets, rank, order, valid):
    """Buckets and showdown order of every completion of a sampled board.

    Parameters
    ----------
    g : GameArrays
    pairs : int64[K, 2]
    board : int64[5]
        The sampled board (``board[:num_board]``), or the fixed board.
    num_board : int
        3, 4 or 5.
    rest : int64[M]
        Deck cards not on the sampled board (the cards a chance node can deal).
    turn_buckets : int64[T, K], out
        Turn bucket per turn card (index into ``rest``); T = 1 from a turn or river board.
    river_buckets : int64[F, K], out
        River bucket per complete board: from a flop ``five_index(i, j)`` of the turn and
        river cards' indices in ``rest``, from a turn the river card's index, from a river 0.
    rank : int32[F, K], out
    order : int32[F, K], out
        Per complete board, the pairs that fit beside it ascending by rank, then the others.
    valid : int64[F], out
        Pairs that fit beside each complete board.
    """
    m = rest.shape[0]
    num_pairs = pairs.shape[0]
    full = np.zeros(5, dtype=np.int64)
    for i in range(num_board):
        full[i] = board[i]
    num_turns = turn_buckets.shape[0]
    for t in range(num_turns):
        if num_board == 3:
            full[3] = rest[t]
        bits = np.int64(0)
        for i in range(4):
            bits |= suit_rank_bit(full[i])
        for k in range(num_pairs):
            turn_buckets[t, k] = hole_pair_bucket(g, 2, pairs[k, 0], pairs[k, 1], bits)
    keys = np.zeros(num_pairs, dtype=np.int64)
    for f in range(river_buckets.shape[0]):
        if num_board == 3:
            i, j = unpair(f, m)
            full[3] = rest[i]
            full[4] = rest[j]
        elif num_board == 4:
            full[4] = rest[f]
        bits = np.int64(0)
        for i in range(5):
            bits |= suit_rank_bit(full[i])
        count = 0
        for k in range(num_pairs):
            c0 = pairs[k, 0]
            c1 = pairs[k, 1]
            river_buckets[f, k] = hole_pair_bucket(g, 3, c0, c1, bits)
            fits = True
            for i in range(5):
                if full[i] == c0 or full[i] == c1:
                    fits = False
            if fits:
                rank[f, k] = rank7_codes(c0, c1, full[0], full[1], full[2], full[3], full[4])
                keys[k] = np.int64(rank[f, k])
                count += 1
            else:
                rank[f, k] = -1
                keys[k] = np.int64(1 << 40)
        valid[f] = count
        sorted_pairs = np.argsort(keys, kind="mergesort")
        for k in range(num_pairs):
            order[f, k] = sorted_pairs[k]


@inline_kernel
def unpair(f, m):
    """The (i, j), i < j, of ``five_index`` f among m cards: f = j * (j - 1) / 2 + i.

    Parameters
    ----------
    f, m : int
    """
    j = 1
    while (j + 1) * j // 2 <= f:
        j += 1
    return f - j * (j - 1) // 2, j


@inline_kernel
def five_index(i, j):
    """Index of the complete board whose turn and river are ``rest[i]`` and ``rest[j]`` (i != j,
    in either order; a set of two cards).

    Parameters
    ----------
    i, j : int
    """
    hi = i if i > j else j
    lo = j if i > j else i
    return hi * (hi - 1) // 2 + lo


@inline_kernel
def street_buckets(street, flop_buckets, turn_buckets, river_buckets, turn, five):
    """The pairs' buckets on ``street`` given the turn and complete-board indices.

    Parameters
    ----------
    street : int
        1, 2 or 3.
    flop_buckets : int32[K]
    turn_buckets : int32[T, K]
    river_buckets : int32[F, K]
    turn, five : int
    """
    if street == 1:
        return flop_buckets
    if street == 2:
        return turn_buckets[turn]
    return river_buckets[five]
