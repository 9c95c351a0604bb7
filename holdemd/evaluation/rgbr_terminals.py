"""The real-game best response's terminal values over range vectors (see
`holdemd.evaluation.rgbr_walk`, whose board walk inlines them): a fold's by the range total
minus the pairs sharing a card, a showdown's by prefix sums over the pairs sorted by rank with
per-card sums for card removal, so no pair-by-pair loop."""

from __future__ import annotations

from holdemd.jit import inline_kernel


@inline_kernel
def fold_values(g, node, r, opp_reach, pairs, card_sum, out):
    """Seat r's values at a terminal where one player folded.

    Parameters
    ----------
    g : GameArrays
    node : int
    r : int
        The seat whose values these are.
    opp_reach : float64[K]
        The other seat's reach per pair (0 for pairs that clash with the board).
    pairs : int64[K, 2]
    card_sum : float64[52]
        Scratch.
    out : float64[K], out
    """
    v = -g.node_contrib[node, r] if g.node_alive[node, r] == 0 else g.node_contrib[node, 1 - r]
    card_sum[:] = 0.0
    total = 0.0
    for k in range(pairs.shape[0]):
        w = opp_reach[k]
        total += w
        card_sum[pairs[k, 0]] += w
        card_sum[pairs[k, 1]] += w
    for k in range(pairs.shape[0]):
        fits = total - card_sum[pairs[k, 0]] - card_sum[pairs[k, 1]] + opp_reach[k]
        out[k] = v * fits


@inline_kernel
def showdown_values(stake, opp_reach, pairs, rank, order, num_valid, card_sum, out):
    """Seat r's values at a showdown on a complete board: ``stake`` times (reach of the weaker
    fitting pairs - reach of the stronger ones), by prefix sums over the pairs sorted by rank.

    Parameters
    ----------
    stake : float
        Chips that change hands (the smaller contribution).
    opp_reach : float64[K]
    pairs : int64[K, 2]
    rank : int32[K]
        Showdown value of each pair on this board.
    order : int32[K]
        Pairs that fit beside the board first (``num_valid`` of them), ascending by rank.
    num_valid : int
    card_sum : float64[52]
        Scratch.
    out : float64[K], out
    """
    out[:] = 0.0
    # Ascending: every pair gains the reach of the fitting pairs below its rank.
    card_sum[:] = 0.0
    total = 0.0
    i = 0
    while i < num_valid:
        j = i
        level = rank[order[i]]
        while j < num_valid and rank[order[j]] == level:
            j += 1
        for t in range(i, j):
            k = order[t]
            out[k] = total - card_sum[pairs[k, 0]] - card_sum[pairs[k, 1]]
        for t in range(i, j):
            k = order[t]
            w = opp_reach[k]
            total += w
            card_sum[pairs[k, 0]] += w
            card_sum[pairs[k, 1]] += w
        i = j
    # Descending: and loses the reach of those above it.
    card_sum[:] = 0.0
    total = 0.0
    i = num_valid - 1
    while i >= 0:
        j = i
        level = rank[order[i]]
        while j >= 0 and rank[order[j]] == level:
            j -= 1
        for t in range(j + 1, i + 1):
            k = order[t]
            above = total - card_sum[pairs[k, 0]] - card_sum[pairs[k, 1]]
            out[k] = stake * (out[k] - above)
        for t in range(j + 1, i + 1):
            k = order[t]
            w = opp_reach[k]
            total += w
            card_sum[pairs[k, 0]] += w
            card_sum[pairs[k, 1]] += w
        i = j
