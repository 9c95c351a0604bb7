"""The float merge in one pass per table, undone exactly if any entry would not stay finite.

``solver.tables.merge_rows`` must leave the tables as they were when a delta would make a float
table non-finite (one bad delta must not poison the tables). Done in numpy that took a gather,
an add, a check and a scatter of every row: twice the time of an unchecked ``+=`` (13.2 ms
against 6.2 ms for a 50,000-row delta into 2M rows, `bench/bench_merge.py`), and a separate
check pass before adding still paid the random reads twice. Here each entry is read once, its
old value saved in order in a scratch array and the sum written; a bad entry (rare: it means a
broken worker) stops the pass and the saved values are put back, bit for bit.

Sums are formed in float64 and rounded once when stored, which for a float32 table equals
numpy's float32 addition (the exact sum of two float32s rounds the same from float64).
"""

from __future__ import annotations

from holdemd.jit import kernel


@kernel
def add_rows_checked(table, rows, delta, lower, limit, saved):
    """``table[rows[i]] = max(table[rows[i]] + delta[i], lower)``, or nothing at all if any
    entry would be NaN or beyond ``limit`` in magnitude (the dtype's largest finite value: an
    entry that would overflow when stored counts as not finite).

    Parameters
    ----------
    table : float32 or float64[R, A], in/out
    rows : int64[k]
        Distinct rows.
    delta : float32 or float64[k, A]
    lower : float
        The floor, ``-inf`` for none: a sum below it is clamped to it (NaN stays NaN).
    limit : float
    saved : float64[k, A], scratch
        Receives the old values; :func:`restore_rows` puts them back.

    Returns
    -------
    bool
        True if every entry was written; False if the table was left unchanged.
    """
    width = delta.shape[1]
    for i in range(rows.shape[0]):
        row = rows[i]
        for a in range(width):
            old = float(table[row, a])
            v = old + float(delta[i, a])
            if v < lower:
                v = lower
            if not abs(v) <= limit:
                restore_rows(table, rows, saved, i, a)
                return False
            saved[i, a] = old
            table[row, a] = v
    return True


@kernel
def restore_rows(table, rows, saved, stop_row, stop_action):
    """Put back the values `add_rows_checked` saved before entry (``stop_row``,
    ``stop_action``) of the delta.

    Parameters
    ----------
    table : float32 or float64[R, A], in/out
    rows : int64[k]
    saved : float64[k, A]
    stop_row : int
        Rows of the delta before this one are restored whole (all of them for ``k``)...
    stop_action : int
        ...and this one up to this action.
    """
    width = saved.shape[1]
    for i in range(min(stop_row + 1, rows.shape[0])):
        end = stop_action if i == stop_row else width
        for a in range(end):
            table[rows[i], a] = saved[i, a]
