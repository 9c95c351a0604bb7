"""Positive-part normalization: a row of weights as probabilities over the legal actions.

Regret matching (the current strategy from regrets) and the average strategy (from strategy
sums) read a table row the same way: negative entries count as zero, the rest are divided by
their sum, and a row with nothing positive is uniform. Kernels do it with
:func:`normalize_positive`; whole tables in numpy with ``holdemd.solver.tables.normalize_block``,
its vectorized twin (a test checks that the two agree).
"""

from __future__ import annotations

from holdemd.jit import inline_kernel


@inline_kernel
def normalize_positive(out, k, n):
    """``out[k, :n]`` in place: ``max(x, 0) / sum(max(x, 0))``, or ``1 / n`` each if no x > 0.

    Parameters
    ----------
    out : float64[K, >= n], in/out
        Holds the weights (any sign); receives the probabilities. A row index rather than a
        1-D view, since views cost in the hot loop.
    k : int
        The row.
    n : int
        Legal actions: the first ``n`` columns.
    """
    total = 0.0
    for a in range(n):
        x = out[k, a]
        if x > 0.0:
            total += x
        else:
            out[k, a] = 0.0
    if total > 0.0:
        inv = 1.0 / total  # one division, not n (tests/naive's reference does the same)
        for a in range(n):
            out[k, a] *= inv
    else:
        for a in range(n):
            out[k, a] = 1.0 / n
