"""Pseudo-harmonic action translation: an off-tree bet size as a mix of the two tree sizes
around it (Ganzfried & Sandholm, "Action Translation in Extensive-Form Games with Large Action
Spaces", IJCAI 2013).

Sizes are pot fractions: the raise increment over the pot after calling, the way the tree's bet
menu is written. A bet ``x`` between tree sizes ``A < x < B`` maps to ``A`` with probability

    f_A(x) = ((B - x) (1 + A)) / ((B - A) (1 + x))

and to ``B`` otherwise. The mapping is exact at the ends (``f_A(A) = 1``, ``f_A(B) = 0``),
decreases monotonically in between, and is the one that minimizes the exploitability of the
translation in the paper's clairvoyance game. Plain functions of floats, so the HTTP service,
the walk and a reader in another language compute the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def pseudo_harmonic(a: float, b: float, x: float) -> float:
    """Probability of mapping the size ``x`` to the smaller tree size ``a`` (``a <= x <= b``).

    Raises ValueError when ``x`` is outside ``[a, b]``, ``a > b`` or a size is not above -1 (a
    pot fraction is never below 0; the formula needs ``1 + size > 0``).
    """
    if not (a <= x <= b):
        raise ValueError(f"pseudo-harmonic translation needs a <= x <= b, got {a}, {x}, {b}")
    if a <= -1.0:
        raise ValueError(f"pot fractions must be above -1, got {a}")
    if a == b:
        return 1.0
    p = ((b - x) * (1.0 + a)) / ((b - a) * (1.0 + x))
    return min(1.0, max(0.0, p))


@dataclass(frozen=True)
class Neighbours:
    """Where an off-tree size falls among the tree's sizes: indices into the sizes given, and the
    probability of the lower one. ``below`` or ``above`` is None past either end of the menu;
    then the other one is taken with probability 1."""

    below: int | None
    above: int | None
    p_below: float

    def options(self) -> list[tuple[int, float]]:
        """(index, probability) of each size taken with a positive probability."""
        out = []
        if self.below is not None and self.p_below > 0.0:
            out.append((self.below, self.p_below))
        if self.above is not None and self.p_below < 1.0:
            out.append((self.above, 1.0 - self.p_below))
        return out


def neighbours(sizes: Sequence[float], x: float) -> Neighbours:
    """The tree sizes around ``x`` and the pseudo-harmonic probability of the lower one.

    ``sizes`` are the pot fractions of the tree's bets or raises at a decision, in any order. A
    size equal to ``x`` maps to itself; below the smallest size ``x`` maps to the smallest (the
    tree offers nothing smaller: the caller says so), above the largest to the largest.
    """
    if not sizes:
        raise ValueError("no tree sizes to translate to")
    below = above = None
    for i, size in enumerate(sizes):
        if size <= x and (below is None or size > sizes[below]):
            below = i
        if size >= x and (above is None or size < sizes[above]):
            above = i
    if below is None:
        return Neighbours(None, above, 0.0)
    if above is None or sizes[below] == x:
        return Neighbours(below, None, 1.0)
    if sizes[above] == x:
        return Neighbours(None, above, 0.0)
    return Neighbours(below, above, pseudo_harmonic(sizes[below], sizes[above], x))
