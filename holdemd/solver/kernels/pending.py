"""Sums of deltas not sent yet: what a node of a multi-host run owes its head (``hosts.replica``).

Each worker delta adds into two dense sums and flags its rows; a send copies the flagged rows
out and zeroes them. Done in numpy that was a gather, an add and a scatter per table plus the
flag updates, three passes of random reads over tables of millions of rows per delta; one
fused pass reads each entry once. Unchecked: the sums of finite float32 deltas stay far inside
float32's range, and the head's merge refuses a delta that would not.
"""

from __future__ import annotations

from holdemd.jit import kernel


@kernel
def accumulate_rows(regret_sum, strategy_sum, pending, rows, regret, strategy):
    """``regret_sum[rows[i]] += regret[i]``, the same for strategy, and flag the rows.

    Parameters
    ----------
    regret_sum, strategy_sum : float32 or float64[R, A], in/out
    pending : bool[R], in/out
        Set for every row of ``rows``.
    rows : int64[k]
        Distinct rows.
    regret, strategy : float32 or float64[k, A]

    Returns
    -------
    int
        How many of ``rows`` were not flagged before.
    """
    width = regret.shape[1]
    new = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        if not pending[row]:
            pending[row] = True
            new += 1
        for a in range(width):
            regret_sum[row, a] += regret[i, a]
            strategy_sum[row, a] += strategy[i, a]
    return new


@kernel
def drain_rows(regret_sum, strategy_sum, pending, rows, regret_out, strategy_out):
    """Copy the flagged ``rows`` out of both sums, zero them and clear their flags.

    Parameters
    ----------
    regret_sum, strategy_sum : float32 or float64[R, A], in/out
    pending : bool[R], in/out
    rows : int64[k]
        The flagged rows (``np.flatnonzero(pending)``).
    regret_out, strategy_out : same dtype as the sums [k, A], out
    """
    width = regret_out.shape[1]
    for i in range(rows.shape[0]):
        row = rows[i]
        pending[row] = False
        for a in range(width):
            regret_out[i, a] = regret_sum[row, a]
            strategy_out[i, a] = strategy_sum[row, a]
            regret_sum[row, a] = 0
            strategy_sum[row, a] = 0
