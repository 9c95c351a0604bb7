"""Adding float changes to int32 regret tables (Pluribus keeps 4-byte integer regrets).

A change is rounded up with probability equal to its fraction, so changes smaller than one
quantum still count on average, and the sum saturates at the int32 range (or a higher floor)
instead of wrapping around. The MCCFR kernel uses this for in-place updates and the supervisor
for merging workers' float deltas.
"""

from __future__ import annotations

import numpy as np

from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.rng import uniform

INT32_LOWEST = -2147483648.0
INT32_HIGHEST = 2147483647.0


@inline_kernel
def rounded_sum(current, change, lower, rng):
    """``current + change`` rounded stochastically to an integer in [lower, INT32_HIGHEST].

    Parameters
    ----------
    current : int32
        The table entry.
    change : float
        In table units; rounded up with probability equal to its fraction.
    lower : float
        An integer value >= INT32_LOWEST: the floor.
    rng : uint64[1]
        Generator state.

    Returns
    -------
    float
        An integer value, to store in the int32 table.
    """
    value = float(current) + np.floor(change + uniform(rng))
    return min(max(value, lower), INT32_HIGHEST)


@kernel
def add_integer_rows(regret, rows, delta, lower, rng):
    """``regret[rows[i]] += delta[i]`` for an int32 table, each entry by :func:`rounded_sum`.

    Parameters
    ----------
    regret : int32[R, A]
    rows : int[k]
    delta : float32 or float64 [k, A]
    lower : float
        The floor in table units, an integer value (``tables.stored_floor``).
    rng : uint64[1]
    """
    for i in range(rows.shape[0]):
        row = rows[i]
        for a in range(delta.shape[1]):
            regret[row, a] = rounded_sum(regret[row, a], float(delta[i, a]), lower, rng)
