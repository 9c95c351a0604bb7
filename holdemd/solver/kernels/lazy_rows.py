"""Rows of a lazily allocated regret table read and written whole: what a multi-host run's head
sends a node's replica, and how the replica takes it and its own workers' deltas
(``hosts.replica``).

Rows travel compact: a row of a node with ``n`` legal actions is ``n`` values, so a send is the
rows' legal entries one row after the other (the receiver knows each row's ``n`` from the game).
Only rows of blocks the head has allocated travel: any other row is zero at the head, and a
replica allocates a block when the head sends one of its rows, so it holds the head's blocks
(plus, until they are merged, those its own workers' deltas reached first).
"""

from __future__ import annotations

import numpy as np

from holdemd.jit import kernel
from holdemd.solver.kernels.integer_regrets import INT32_HIGHEST, rounded_sum
from holdemd.solver.kernels.lazy_merge import allocate_block
from holdemd.solver.kernels.rng import uniform


@kernel
def gather_allocated_rows(regret, regret_at, blocks, index, rows, out_rows, out_values):
    """Copy out the rows of ``rows`` that have a block, compact.

    Parameters
    ----------
    regret : int32, float32 or float64[capacity]
    regret_at : int64[nodes]
    blocks : tuple of int64[D] arrays
        ``(decision_nodes, row_base, num_actions, num_buckets)`` of ``NodeBlocks``.
    index : int64[k]
        The position in ``blocks`` of each row's node.
    rows : int64[k]
    out_rows : int64[k], out
        The rows with a block, in order.
    out_values : regret's dtype [>= sum of their actions], out
        Their entries, row after row.

    Returns
    -------
    (int, int)
        Rows and values written.
    """
    nodes, row_base, num_actions, _ = blocks
    kept = 0
    written = 0
    for i in range(rows.shape[0]):
        d = index[i]
        at = regret_at[nodes[d]]
        if at < 0:
            continue
        n = num_actions[d]
        entry = at + (rows[i] - row_base[d]) * n
        for a in range(n):
            out_values[written + a] = regret[entry + a]
        out_rows[kept] = rows[i]
        kept += 1
        written += n
    return kept, written


@kernel
def write_rows(regret, regret_at, used, blocks, index, rows, values, change, pending, lower,
               integer):  # fmt: skip
    """Set ``rows`` to the head's ``values``, plus ``change`` where ``pending`` (this host's
    work not sent yet stays on top), allocating blocks as needed.

    Parameters
    ----------
    regret, regret_at : see `gather_allocated_rows`; in/out
    used : int64[2], in/out
        Entries allocated in the regret and strategy arenas.
    blocks, index, rows : see `gather_allocated_rows`
    values : regret's dtype [sum of the rows' actions]
        Compact, as `gather_allocated_rows` writes them.
    change : float64[k, A]
        Work not sent yet, of the rows flagged in ``pending``.
    pending : bool[k]
    lower : float
        The lowest value stored (the floor, or -inf; integer tables: an integer).
    integer : bool
        Integer regrets: a sum is rounded to the nearest integer and saturates.

    Returns
    -------
    int
        Rows dropped because the arena was full (0 unless it was made too small).
    """
    nodes, row_base, num_actions, num_buckets = blocks
    read = 0
    dropped = 0
    for i in range(rows.shape[0]):
        d = index[i]
        n = num_actions[d]
        at = allocate_block(regret_at, used, 0, regret.shape[0], nodes[d], num_buckets[d] * n)
        if at < 0:
            dropped += 1
            read += n
            continue
        entry = at + (rows[i] - row_base[d]) * n
        for a in range(n):
            if pending[i]:
                v = float(values[read + a]) + change[i, a]
                if integer:
                    v = min(np.rint(v), INT32_HIGHEST)
                regret[entry + a] = max(v, lower)
            else:
                regret[entry + a] = values[read + a]
        read += n
    return dropped


@kernel
def add_regret_rows(regret, regret_at, used, blocks, index, rows, delta, lower, integer, rng):
    """Add a worker's regret delta to lazy tables, allocating the blocks it changes: the
    regret half of ``lazy_merge.lazy_merge_rows`` (the same arithmetic: float sums formed in
    float64 and clamped at ``lower``, integer ones rounded stochastically, one draw per column).

    Parameters
    ----------
    regret, regret_at, used, blocks, index, rows : see `write_rows`
    delta : float32 or float64[k, A]
    lower, integer : see `write_rows`
    rng : uint64[1]

    Returns
    -------
    int
        Rows dropped because the arena was full.
    """
    nodes, row_base, num_actions, num_buckets = blocks
    width = delta.shape[1]
    dropped = 0
    for i in range(rows.shape[0]):
        d = index[i]
        node = nodes[d]
        n = num_actions[d]
        changed = False
        for a in range(n):
            if delta[i, a] != 0.0:
                changed = True
        at = -1
        if changed or regret_at[node] >= 0:
            at = allocate_block(regret_at, used, 0, regret.shape[0], node, num_buckets[d] * n)
            if at < 0:
                dropped += 1
        entry = at + (rows[i] - row_base[d]) * n
        for a in range(width):
            write = at >= 0 and a < n
            if integer:
                if write:
                    regret[entry + a] = rounded_sum(
                        regret[entry + a], float(delta[i, a]), lower, rng
                    )
                else:
                    uniform(rng)
            elif write:
                v = float(regret[entry + a]) + float(delta[i, a])
                regret[entry + a] = max(v, lower)
    return dropped
