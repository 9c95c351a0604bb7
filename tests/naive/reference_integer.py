"""Integer regrets in plain Python ints: stochastic rounding and saturation.

A change x (a float, in quanta) is added as floor(x + u) with u uniform in [0, 1): it rounds
up with probability equal to its fraction, so its expectation is x. The sum then saturates at
the int32 range, or at a floor above its bottom, instead of wrapping around.
"""

from __future__ import annotations

import math

import numpy as np

from holdemd.solver.kernels.rng import uniform

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
QUANTA_PER_UTILITY_SCALE = 2**16  # an integer regret of 2**16 is one utility scale


def rounded_add(current: int, change: float, u: float, floor: int = INT32_MIN) -> int:
    """``current + change`` rounded down after adding ``u``, kept within [floor, INT32_MAX]."""
    return min(max(current + math.floor(change + u), floor), INT32_MAX)


def integer_floor(floor: float | None) -> int:
    """The lowest integer a table with regret floor ``floor`` (table units) may hold."""
    return INT32_MIN if floor is None else max(math.ceil(floor), INT32_MIN)


def merge_integer_rows(
    regret: np.ndarray, rows: np.ndarray, delta: np.ndarray, floor: float | None, rng: np.ndarray
) -> np.ndarray:
    """A copy of int32 ``regret`` with ``delta[i]`` added to row ``rows[i]``.

    Random numbers: one per table entry the delta covers, row by row in the delta's order and
    column by column, columns past a row's legal actions included (their change is 0).
    """
    out = [[int(x) for x in row] for row in regret.tolist()]
    lowest = integer_floor(floor)
    for i, row in enumerate(rows.tolist()):
        for a in range(delta.shape[1]):
            out[row][a] = rounded_add(out[row][a], float(delta[i, a]), float(uniform(rng)), lowest)
    return np.array(out, dtype=np.int64)
