"""Positive-part normalization: a row of weights as probabilities over the legal actions.

Regret matching (the current strategy from regrets) and the average strategy (from strategy
sums) read a table row the same way: negative entries count as zero, the rest are divided by
their sum, and a row with nothing positive is uniform. Kernels do it in two halves that a
caller puts around its own loop over the actions::

    total = 0.0
    for a in range(n):
        w = positive_part(<the action's weight>)
        out[k, a] = w
        total += w
    normalize_positive(out, k, n, total)

so gathering a weight (regret matching adds a table entry and two pending deltas), clipping
it and summing take one pass: a separate clipping pass over ``out`` cost about 6% of Leduc
MCCFR iterations/s. Whole tables are normalized in numpy by
``holdemd.solver.tables.normalize_block``, the vectorized twin (a test checks they agree).
"""

from __future__ import annotations

from holdemd.jit import inline_kernel


@inline_kernel
def positive_part(x):
    """``max(x, 0.0)`` (NaN counts as 0)."""
    return x if x > 0.0 else 0.0


@inline_kernel
def normalize_positive(out, k, n, total):
    """``out[k, :n] / total``, or ``1 / n`` each when ``total`` is 0 (no positive weight).

    Parameters
    ----------
    out : float64[K, >= n], in/out
        Row ``k`` holds the actions' positive parts (`positive_part`); receives the
        probabilities. A row index rather than a 1-D view, since views cost in the hot loop.
    k : int
        The row.
    n : int
        Legal actions: the first ``n`` columns.
    total : float
        The sum of ``out[k, :n]``.
    """
    if total > 0.0:
        inv = 1.0 / total  # one division, not n (tests/naive's reference does the same)
        for a in range(n):
            out[k, a] *= inv
    else:
        for a in range(n):
            out[k, a] = 1.0 / n
