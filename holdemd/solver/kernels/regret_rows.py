"""One row of the regret table as the traversal reads and writes it.

Reading: `regret_matching`, the row's current strategy from its regrets (table entry plus the
pending and in-flight deltas). Writing: `add_regret`, one entry's change into a float table or,
rounded stochastically, into an int32 one (the variant is picked at compile time). Both are
inlined into the traversal (``external_sampling``).
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from holdemd.jit import inline_kernel
from holdemd.solver.kernels.integer_regrets import INT32_LOWEST, rounded_sum
from holdemd.solver.kernels.normalize import normalize_positive, positive_part


@inline_kernel
def regret_matching(tables, entry, pending, sent, n, out, k):
    """Current strategy of a row into ``out[k, :n]``: positive regrets normalized, else uniform.

    Parameters
    ----------
    tables : LiveTables
        The row's regret is ``tables.regret[entry:entry + n]`` (zeros if ``entry`` < 0) plus
        its pending and in-flight changes.
    entry : int
        The row's first entry (`row_entry`).
    pending : int
        Slot of the row in ``tables.delta`` (-1: none).
    sent : int
        Slot of the row in ``tables.inflight`` (-1: none).
    n : int
        Legal actions.
    out : float64[K, >= n], out
    k : int
        Row of ``out`` to fill (an index rather than a view: views cost in the hot loop).
    """
    total = 0.0
    for a in range(n):
        r = float(tables.regret[entry + a]) if entry >= 0 else 0.0
        if pending >= 0:
            r += float(tables.delta.regret[pending, a])
        if sent >= 0:
            r += float(tables.inflight.regret[sent, a])
        r = positive_part(r)
        out[k, a] = r
        total += r
    normalize_positive(out, k, n, total)


@inline_kernel
def _add_integer_regret(regret, entry, change, rng):
    """``regret[entry] += change``, rounded stochastically (`rounded_sum`).

    Parameters
    ----------
    regret : int32[entries], in/out
    entry : int
    change : float
        In table units.
    rng : uint64[1]
    """
    regret[entry] = rounded_sum(regret[entry], change, INT32_LOWEST, rng)


@inline_kernel
def _add_float_regret(regret, entry, change, rng):
    """``regret[entry] += change``.

    Parameters
    ----------
    regret : float32 or float64 [entries], in/out
    entry : int
    change : float
    rng : uint64[1]
        Unused (the integer variant's signature).
    """
    regret[entry] += change


def add_regret(regret, entry, change, rng):
    """``regret[entry] += change`` for a float or an integer regret table (compiled code gets
    the dtype's variant from the overload below; this body runs without JIT)."""
    if np.issubdtype(regret.dtype, np.integer):
        _add_integer_regret(regret, entry, change, rng)
    else:
        _add_float_regret(regret, entry, change, rng)


@overload(add_regret, inline="always")
def _add_regret_compiled(regret, entry, change, rng):
    if isinstance(regret.dtype, types.Integer):
        return lambda regret, entry, change, rng: _add_integer_regret(regret, entry, change, rng)
    return lambda regret, entry, change, rng: _add_float_regret(regret, entry, change, rng)
