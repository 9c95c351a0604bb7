"""Terminal payoffs from contributions, who is still in, and showdown ranks.

One routine covers a fold, a two-way showdown, split pots and multi-way side pots, so no game
needs payoff code of its own.
"""

from __future__ import annotations

from holdemd.jit import inline_kernel, kernel


@inline_kernel
def _heads_up(contrib, alive, node, ranks, player):
    """Two players: the same result as the layered rule, without its loops (the hot case).

    Parameters
    ----------
    contrib : float64[N, 2]
    alive : int8[N, 2]
    node : int
    ranks : int64[2]
    player : int
        See `payoff`.
    """
    other = 1 - player
    if alive[node, player] == 0:
        return -contrib[node, player]
    if alive[node, other] == 0:
        return contrib[node, other]
    # Only the smaller contribution is contested; any excess goes back to its owner.
    at_stake = (
        contrib[node, player]
        if contrib[node, player] < contrib[node, other]
        else contrib[node, other]
    )
    if ranks[player] > ranks[other]:
        return at_stake
    if ranks[player] < ranks[other]:
        return -at_stake
    return 0.0


@inline_kernel
def payoff(contrib, alive, node, ranks, player):
    """Chips ``player`` wins minus chips ``player`` put in.

    Parameters
    ----------
    contrib : float64[N, P]
        Chips each player put in, per node (``GameArrays.node_contrib``).
    alive : int8[N, P]
        1 for players who have not folded, per node.
    node : int
        The terminal node (rows are indexed, not sliced: a view costs in the hot loop).
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
    n = contrib.shape[1]
    if n == 2:
        return _heads_up(contrib, alive, node, ranks, player)
    won = 0.0
    lower = 0.0
    while True:
        # Next contribution level above `lower`.
        level = -1.0
        for p in range(n):
            c = contrib[node, p]
            if c > lower and (level < 0.0 or c < level):
                level = c
        if level < 0.0:
            break
        layer = 0.0
        for p in range(n):
            c = contrib[node, p]
            layer += (c if c < level else level) - (lower if lower < c else c)
        best = -1
        winners = 0
        for p in range(n):
            if alive[node, p] == 1 and contrib[node, p] >= level:
                if winners == 0 or ranks[p] > best:
                    best = ranks[p]
                    winners = 1
                elif ranks[p] == best:
                    winners += 1
        if alive[node, player] == 1 and contrib[node, player] >= level and ranks[player] == best:
            won += layer / winners
        lower = level
    return won - contrib[node, player]


@kernel
def terminal_payoffs(contrib, alive, nodes, ranks, out):
    """Payoffs of many terminals over many deals, for the exact evaluator.

    Parameters
    ----------
    contrib : float64[N, P]
    alive : int8[N, P]
    nodes : int64[T]
        Terminal nodes.
    ranks : int64[D, P]
        Showdown ranks per deal.
    out : float64[T, D, P]
    """
    for t in range(nodes.shape[0]):
        for d in range(ranks.shape[0]):
            for p in range(ranks.shape[1]):
                out[t, d, p] = payoff(contrib, alive, nodes[t], ranks[d], p)
