"""The merge into lazily allocated tables: a delta's rows added, blocks allocated on the way.

The supervisor is the only writer, so allocation needs no lock: a node's block is taken from
the end of its arena the first time a delta changes one of its rows, and the offset is
published after the values are written. A worker that reads the offset too early sees the
block as unallocated (zeros), like any update it has not seen yet.

The arithmetic is the dense merge's (``kernels.merge``, ``kernels.integer_regrets``) entry for
entry, so the same deltas give the same tables bit for bit: float sums are formed in float64
and rounded once; integer regrets are rounded stochastically and draw one random number per
column of the delta (``max_actions``, as the dense merge does for its padding columns).
"""

from __future__ import annotations

from holdemd.jit import kernel
from holdemd.solver.kernels.integer_regrets import rounded_sum
from holdemd.solver.kernels.rng import uniform


@kernel
def lazy_merge_fits(
    regret, strategy_sum, regret_at, strategy_at, blocks, index, rows, regret_delta,
    strategy_delta, lower, integer, regret_limit, strategy_limit,
):  # fmt: skip
    """Whether adding the delta keeps every float entry finite (nothing is written).

    Parameters
    ----------
    regret : int32, float32 or float64 [capacity]
    strategy_sum : float32 or float64 [capacity]
    regret_at, strategy_at : int64[nodes]
    blocks : tuple of int64[D] arrays
        ``(decision_nodes, row_base, num_actions, num_buckets)`` of ``NodeBlocks``.
    index : int64[k]
        The position in ``blocks`` of each delta row's node.
    rows : int64[k]
    regret_delta, strategy_delta : float32 or float64 [k, A]
    lower : float
        The regret floor (``-inf``: none); sums below it are clamped, as stored.
    integer : bool
        Integer regrets saturate and cannot overflow: only strategy sums are checked then.
    regret_limit, strategy_limit : float
        The largest finite value of each table's dtype.
    """
    nodes, row_base, num_actions, _ = blocks
    for i in range(rows.shape[0]):
        d = index[i]
        node = nodes[d]
        n = num_actions[d]
        offset = (rows[i] - row_base[d]) * n
        s_at = strategy_at[node]
        r_at = regret_at[node]
        for a in range(n):
            old = float(strategy_sum[s_at + offset + a]) if s_at >= 0 else 0.0
            if not abs(old + float(strategy_delta[i, a])) <= strategy_limit:
                return False
            if not integer:
                old = float(regret[r_at + offset + a]) if r_at >= 0 else 0.0
                v = old + float(regret_delta[i, a])
                if v < lower:
                    v = lower
                if not abs(v) <= regret_limit:
                    return False
    return True


@kernel
def lazy_merge_rows(
    regret, strategy_sum, regret_at, strategy_at, used, blocks, index, rows, regret_delta,
    strategy_delta, lower, integer, rng,
):  # fmt: skip
    """Add a delta to lazy tables, allocating the blocks it reaches; call `lazy_merge_fits`
    first (this writes unconditionally).

    A block is allocated only for a non-zero change: a row an opponent merely passed through
    adds to the strategy sums, not to the regrets. Returns the rows dropped because an arena
    was full (0 unless the arenas were made smaller than ``compact_entries``).

    Parameters
    ----------
    regret, strategy_sum, regret_at, strategy_at : see `lazy_merge_fits`; in/out
    used : int64[2], in/out
        Entries allocated in the regret and strategy arenas.
    blocks, index, rows, regret_delta, strategy_delta, lower, integer : see `lazy_merge_fits`
    rng : uint64[1]
        Rounds integer regret changes (``rounded_sum``).
    """
    nodes, row_base, num_actions, num_buckets = blocks
    width = regret_delta.shape[1]
    dropped = 0
    for i in range(rows.shape[0]):
        d = index[i]
        node = nodes[d]
        n = num_actions[d]
        offset = (rows[i] - row_base[d]) * n
        size = num_buckets[d] * n
        # Strategy sums first, as the dense merge does.
        changed = False
        for a in range(n):
            if strategy_delta[i, a] != 0.0:
                changed = True
        if changed:
            at = allocate_block(strategy_at, used, 1, strategy_sum.shape[0], node, size)
            if at < 0:
                dropped += 1
            else:
                for a in range(n):
                    entry = at + offset + a
                    strategy_sum[entry] = float(strategy_sum[entry]) + float(strategy_delta[i, a])
        changed = False
        for a in range(n):
            if regret_delta[i, a] != 0.0:
                changed = True
        at = -1
        if changed or regret_at[node] >= 0:
            at = allocate_block(regret_at, used, 0, regret.shape[0], node, size)
            if at < 0:
                dropped += 1
        for a in range(width):
            write = at >= 0 and a < n
            if integer:
                # One draw per column, padding included, as the dense merge makes.
                if write:
                    entry = at + offset + a
                    regret[entry] = rounded_sum(
                        regret[entry], float(regret_delta[i, a]), lower, rng
                    )
                else:
                    uniform(rng)
            elif write:
                entry = at + offset + a
                v = float(regret[entry]) + float(regret_delta[i, a])
                if v < lower:
                    v = lower
                regret[entry] = v
    return dropped


@kernel
def allocate_block(at, used, which, capacity, node, size):
    """The node's block in an arena, allocated at its end if it has none; -1 when full.

    Parameters
    ----------
    at : int64[nodes], in/out
        Each node's first entry in the arena, -1 if not allocated.
    used : int64[2], in/out
        Entries allocated in the regret and strategy arenas.
    which : int
        0: the regret arena, 1: the strategy sums.
    capacity : int
        The arena's size in entries.
    node : int
    size : int
        Entries of the node's block (buckets x legal actions).
    """
    start = at[node]
    if start >= 0:
        return start
    start = used[which]
    if start + size > capacity:
        return -1
    used[which] = start + size
    at[node] = start
    return start
