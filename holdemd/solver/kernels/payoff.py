"""Terminal payoffs from contributions, who is still in, and showdown ranks.

One routine covers a fold, a two-way showdown, split pots and multi-way side pots, so no game
needs payoff code of its own.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def payoff(contrib, alive, ranks, player):  # type: ignore[no-untyped-def]
    """Chips ``player`` wins minus chips ``player`` put in.

    Parameters
    ----------
    contrib : float64[P]
        Chips each player put in.
    alive : int8[P]
        1 for players who have not folded.
    ranks : int64[P]
        Showdown strength; ignored when one player is left.
    player : int

    Notes
    -----
    The pot is split into layers at each distinct contribution level. A layer goes to the best
    ranked players still in whose contribution reaches it, split evenly on ties. The largest
    contributor can never have folded (folding needs a larger bet to face), so every layer has
    someone eligible; an uncalled excess is a layer only its owner reaches, i.e. returned.
    """
    n = contrib.shape[0]
    won = 0.0
    lower = 0.0
    while True:
        # Next contribution level above `lower`.
        level = -1.0
        for p in range(n):
            c = contrib[p]
            if c > lower and (level < 0.0 or c < level):
                level = c
        if level < 0.0:
            break
        layer = 0.0
        for p in range(n):
            c = contrib[p]
            layer += (c if c < level else level) - (lower if lower < c else c)
        best = -1
        winners = 0
        for p in range(n):
            if alive[p] == 1 and contrib[p] >= level:
                if winners == 0 or ranks[p] > best:
                    best = ranks[p]
                    winners = 1
                elif ranks[p] == best:
                    winners += 1
        if alive[player] == 1 and contrib[player] >= level and ranks[player] == best:
            won += layer / winners
        lower = level
    return won - contrib[player]
