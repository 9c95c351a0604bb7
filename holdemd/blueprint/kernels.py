"""Numba kernels of the blueprint: quantizing a strategy for the file, and the card work of
batch look-ups (every hole pair at once). Arrays and scalars in, preallocated arrays out; no
I/O, no raise."""

from __future__ import annotations

import numpy as np

from holdemd.cards.isomorphism import index_from_bits, suit_rank_bit
from holdemd.jit import kernel
from holdemd.solver.kernels.normalize import normalize_positive, positive_part

NUM_PAIRS = 1326  # two-card hands from 52 cards


@kernel
def quantize_strategy(
    strategy_sum, node_row_base, node_num_actions, node_rows, node_offset, scale, out, trained
):
    """Normalize every infoset row and round it to integers summing exactly to ``scale``.

    Normalization is the kernels' own (``normalize_positive``: negative sums count as zero; a
    row whose sum is zero is uniform), as in :func:`holdemd.solver.tables.average_strategy`. Rounding is largest-remainder: each probability
    ``p`` becomes ``floor(p * scale)``, and the units still missing go one each to the actions
    with the largest remainders (the lower column on a tie), so every decoded probability
    ``q / scale`` is within ``1 / scale`` of ``p`` and a row's integers sum to ``scale``.

    Parameters
    ----------
    strategy_sum : float32 or float64[rows, A]
    node_row_base : int64[N]
        First row of each decision node, -1 at terminals.
    node_num_actions : int8[N]
    node_rows : int64[N]
        Rows (buckets) of each decision node.
    node_offset : int64[N]
        Where each node's rows start in ``out``: row ``b`` of node ``n`` occupies
        ``out[node_offset[n] + b * n_actions : ... + n_actions]``.
    scale : int
        255 or 65535.
    out : uint8 or uint16[total]
        The quantized probabilities, written.
    trained : uint8[ceil(rows / 8)]
        Bit ``row & 7`` of byte ``row >> 3`` is set where the row's sum is positive; zeroed
        by the caller.

    Returns
    -------
    float
        The largest ``|q / scale - p|`` over all probabilities.
    """
    worst = 0.0
    probs = np.empty((1, strategy_sum.shape[1]), dtype=np.float64)
    units = np.empty(strategy_sum.shape[1], dtype=np.int64)
    rest = np.empty(strategy_sum.shape[1], dtype=np.float64)
    for node in range(node_row_base.shape[0]):
        base = node_row_base[node]
        if base < 0:
            continue
        n = np.int64(node_num_actions[node])
        for b in range(node_rows[node]):
            row = base + b
            total = 0.0
            for i in range(n):
                w = positive_part(np.float64(strategy_sum[row, i]))
                probs[0, i] = w
                total += w
            if total > 0.0:
                trained[row >> 3] |= np.uint8(1 << (row & 7))
            normalize_positive(probs, 0, n, total)
            given = 0
            for i in range(n):
                u = probs[0, i] * scale
                units[i] = np.int64(np.floor(u))
                rest[i] = u - units[i]
                given += units[i]
            for _ in range(min(scale - given, n)):
                best = 0
                for i in range(1, n):
                    if rest[i] > rest[best]:
                        best = i
                units[best] += 1
                rest[best] = -1.0
            start = node_offset[node] + b * n
            for i in range(n):
                out[start + i] = units[i]
                error = abs(units[i] / scale - probs[0, i])
                if error > worst:
                    worst = error
    return worst


@kernel
def pair_indices(street, board, out):
    """Suit-isomorphic hand index of every hole pair with ``board`` on ``street``.

    Parameters
    ----------
    street : int
        0 preflop .. 3 river.
    board : int64[k]
        The street's board cards (empty preflop).
    out : int64[1326]
        Written: the index of pair ``hi * (hi - 1) / 2 + lo`` (card codes ``hi > lo``), or -1
        where the pair holds a board card.
    """
    board_bits = np.int64(0)
    for card in board:
        board_bits |= suit_rank_bit(card)
    for hi in range(1, 52):
        for lo in range(hi):
            k = hi * (hi - 1) // 2 + lo
            hole_bits = suit_rank_bit(hi) | suit_rank_bit(lo)
            if hole_bits & board_bits:
                out[k] = -1
            else:
                out[k] = index_from_bits(street, hole_bits, board_bits)


@kernel
def pair_buckets(indices, table, out):
    """``out[k] = table[indices[k]]``, -1 where ``indices[k]`` is -1 (a blocked pair).

    Parameters
    ----------
    indices : int64[1326]
    table : uint8 or uint16[hand indices]
        A street's bucket table (may be memory-mapped: only the entries read are paged in).
    out : int64[1326]
    """
    for k in range(indices.shape[0]):
        out[k] = -1 if indices[k] < 0 else np.int64(table[indices[k]])
