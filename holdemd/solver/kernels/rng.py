"""SplitMix64: a small, fast generator whose whole state is one uint64 the caller owns.

The package's only random number generator for kernels (training, evaluation, and the
abstraction's training sample), with its two draws: :func:`uniform` floats and
:func:`below`, an exactly uniform integer in a range. Cards are dealt with
:func:`holdemd.solver.kernels.deal.draw_cards`, on top of :func:`below`.

Kernels never touch numpy's global generator: the state is an explicit ``uint64[1]`` array, so
a run is reproducible from its seed and a worker's stream is independent of its neighbours'.
All arithmetic stays in uint64 (numba promotes uint64 mixed with int64 to float64).
"""

from __future__ import annotations

import numpy as np

from holdemd.jit import inline_kernel, kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_INV_2_53 = 1.0 / 9007199254740992.0


def make_rng_state(seed: int, stream: int = 0) -> np.ndarray:
    """A fresh generator state for ``seed``; distinct ``stream`` values give independent streams.

    Returns uint64[1].
    """
    # SplitMix64 walks a Weyl sequence (state += golden): two states that differ by a multiple of
    # the golden constant are the same stream shifted. Mixing seed and stream through the output
    # function first puts different (seed, stream) pairs at unrelated points of the sequence.
    state = np.zeros(1, dtype=np.uint64)
    state[0] = np.uint64(_mix(_mix(seed % 2**64) ^ (stream % 2**64)))
    return state


def _mix(value: int) -> int:
    """SplitMix64's output function on a Python int (a bijection of 64-bit values)."""
    mask = 2**64 - 1
    z = (value + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


@inline_kernel
def next_u64(state):
    """Next 64 random bits. ``state``: uint64[1], advanced in place."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@inline_kernel
def uniform(state):
    """A float64 in [0, 1) with 53 random bits."""
    return float(next_u64(state) >> _S11) * _INV_2_53


@inline_kernel
def below(state, n):
    """An integer in [0, n), each value equally likely, for 0 < n < 2**32.

    Lemire's multiply-shift with rejection (D. Lemire, "Fast random integer generation in an
    interval", 2019): the high half of the top 32 random bits times n. Of the 2**32 inputs,
    ``2**32 mod n`` would make some results one input more likely than others; they are the
    products whose low half is below ``2**32 mod n``, and are redrawn (probability below
    n / 2**32, so the common path stays a multiply and a compare). Returns int64.
    """
    bound = np.uint64(n)
    product = (next_u64(state) >> _S32) * bound
    if (product & _LOW32) < bound:  # only then can it be one of the surplus inputs
        product = _redraw_surplus(state, bound, product)
    return np.int64(product >> _S32)


@kernel
def _redraw_surplus(state, bound, product):
    """`below`'s rare path: redraw while ``product`` is one of the surplus inputs.

    A kernel of its own, not inlined: inlined, its modulo and loop made every draw's code
    bigger, and Leduc MCCFR about 5% slower.

    Parameters
    ----------
    state : uint64[1]
    bound : uint64
        The n of `below`.
    product : uint64
        The first draw's product, whose low half is below ``bound``.
    """
    surplus = (_TWO32 - bound) % bound  # 2**32 mod n
    while (product & _LOW32) < surplus:
        product = (next_u64(state) >> _S32) * bound
    return product
