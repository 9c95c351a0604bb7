"""Which decision node a table row belongs to, for lazily allocated tables (``solver.lazy_tables``).

A row's node is the last one whose first row is at or below it: a binary search over the
nodes' first rows, 2.1M of them (17 MB) for 6max_mid. Done with ``np.searchsorted`` for every
row of every delta, that search was a quarter of a node's CPU and an eighth of a head's in a
multi-host 6max_mid run (py-spy), each step a likely cache miss. A coarse table - the node of
every 1,024th row - narrows each search to the few nodes between two of its entries.
"""

from __future__ import annotations

from holdemd.jit import kernel

COARSE_SHIFT = 10  # one coarse entry per 1,024 rows: 11.5 MB for 6max_pluribus's 1.48G rows


@kernel
def coarse_nodes(row_base, num_rows, shift, out):
    """The node of every ``2**shift``-th row: ``out[c]`` holds the node of row ``c << shift``.

    Parameters
    ----------
    row_base : int64[D]
        Each decision node's first row, increasing, the first 0.
    num_rows : int
    shift : int
    out : int64[(num_rows >> shift) + 2], out
        The last entry is the last node (rows past the table end there).
    """
    d = 0
    last = row_base.shape[0] - 1
    for c in range(out.shape[0]):
        row = c << shift
        while d < last and row_base[d + 1] <= row:
            d += 1
        out[c] = d


@kernel
def find_nodes(row_base, coarse, shift, rows, out):
    """``out[i]``: the index of the node of ``rows[i]``, as
    ``np.searchsorted(row_base, rows, side="right") - 1``.

    Parameters
    ----------
    row_base : int64[D]
    coarse : int64[...]
        From `coarse_nodes` with the same ``shift``.
    shift : int
    rows : int32 or int64[k]
        Rows of the table (0 <= row < num_rows).
    out : int64[k], out
    """
    for i in range(rows.shape[0]):
        row = rows[i]
        c = row >> shift
        lo = coarse[c]  # row_base[lo] <= row
        hi = coarse[c + 1]  # the node of a later row: at or after row's
        while lo < hi:  # the last node in [lo, hi] starting at or below row
            mid = (lo + hi + 1) >> 1
            if row_base[mid] <= row:
                lo = mid
            else:
                hi = mid - 1
        out[i] = lo
