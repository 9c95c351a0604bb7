"""One current-strategy snapshot of the later streets, a chunk of the regret arena at a time.

The snapshot pass (``training.later_sums_pass``) streams the previous sums file and writes a
new one laid out like the regret arena (``solver.later_sums``). To walk the arena in order it
needs, for each block start, the node whose block starts there: `mark_blocks` records it in
``mark[start // q]`` with ``q`` at most the smallest block, so that two starts never share a
cell (a bucket sort: no comparison sort of a million offsets on the event loop).

The arithmetic is the dense pass's (``ScheduleRunner._average_snapshot_rows``) entry for entry:
the current strategy normalized in float64, rounded to the table's dtype, then added in it;
a pending discount multiplies in the table's dtype.
"""

from __future__ import annotations

from holdemd.jit import kernel


@kernel
def mark_blocks(regret_at, nodes, lo, hi, limit, q, mark):
    """Record the blocks of nodes ``lo:hi`` that start before ``limit``.

    Parameters
    ----------
    regret_at : int64[nodes of the game]
        Each node's first regret entry, -1 if not allocated.
    nodes : int64[D]
        The decision nodes (``NodeBlocks.decision_nodes``).
    lo, hi : int
        Positions in ``nodes``.
    limit : int
        Blocks starting at or past this entry are left out (allocated after the pass began).
    q : int
        At most the smallest block's entries.
    mark : int32[limit // q + 1], in/out
        ``mark[start // q]`` = the position in ``nodes`` of the block starting at ``start``.
    """
    for d in range(lo, hi):
        at = regret_at[nodes[d]]
        if at >= 0 and at < limit:
            mark[at // q] = d


@kernel
def chunk_end(mark, q, num_actions, num_buckets, start, limit, want):
    """Where a chunk beginning at block start ``start`` ends: after whole blocks, once it
    holds ``want`` entries or reaches ``limit``; -1 if ``start`` is not a marked block start.

    Parameters
    ----------
    mark : int32[limit // q + 1]
        From `mark_blocks`.
    q : int
    num_actions, num_buckets : int32[D]
        Each block holds buckets x legal actions entries.
    start, limit, want : int
    """
    end = start
    while end < limit and end - start < want:
        d = mark[end // q]
        if d < 0:
            return -1
        end += num_buckets[d] * num_actions[d]
    return end


@kernel
def add_current_chunk(
    regret, strategy_sum, strategy_at, blocks, street, mark, q, start, end, old, old_end,
    pending, fresh, out,
):  # fmt: skip
    """The new sums of regret entries ``start:end`` (whole blocks): the old sums plus the
    current strategy of every later-street row; first-round blocks get zeros (their sums are
    in the strategy arena).

    Parameters
    ----------
    regret : int32, float32 or float64 [capacity]
        The regret arena.
    strategy_sum : float32 or float64 [capacity]
        The strategy arena: a later-street block there holds sums not yet in the file.
    strategy_at : int64[nodes of the game]
    blocks : tuple of int64[D] arrays
        ``(decision_nodes, row_base, num_actions, num_buckets)`` of ``NodeBlocks``.
    street : int32[D]
        Each node's betting round.
    mark, q : see `chunk_end`
    start, end : int
        The chunk, block starts both (``end`` from `chunk_end`).
    old : float [min(end, old_end) - start] (empty if ``start >= old_end``)
        The previous file's values of the chunk's entries.
    old_end : int
        Entries the previous file holds.
    pending : float[P]
        Discounts since the previous file was written, in order, in the table's dtype.
    fresh : float[max_actions + 1]
        An entry's value past the previous file, by legal actions (discounts applied).
    out : float[end - start], out
        Of the table's dtype.
    """
    nodes, _, num_actions, num_buckets = blocks
    p = out[:1].copy()  # one value of the table's dtype: the strategy is rounded to it first
    position = start
    while position < end:
        d = mark[position // q]
        n = num_actions[d]
        size = num_buckets[d] * n
        base = position - start
        if street[d] == 0:
            for i in range(size):
                out[base + i] = 0.0
            position += size
            continue
        s_at = strategy_at[nodes[d]]
        for b in range(num_buckets[d]):
            row = position + b * n
            total = 0.0
            for a in range(n):
                r = float(regret[row + a])
                if r > 0.0:
                    total += r
            for a in range(n):
                entry = row + a
                if entry < old_end:
                    v = old[entry - start]
                    for f in pending:
                        v = v * f
                elif s_at >= 0:
                    v = strategy_sum[s_at + b * n + a]
                else:
                    v = fresh[n]
                r = float(regret[entry])
                p[0] = (r if r > 0.0 else 0.0) / total if total > 0.0 else 1.0 / n
                out[entry - start] = v + p[0]
        position += size
