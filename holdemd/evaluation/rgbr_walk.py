"""The real-game best response's walk of one sampled board (see `holdemd.evaluation.rgbr` for
the method, and `holdemd.evaluation.rgbr_kernel` for the parallel loop over boards).

`board_values` walks the part of the tree below the preflop ("frontier" nodes: the children
of preflop decisions that start the flop or end the hand) with range vectors over the hole
pairs. Both seats are computed in one walk: each level keeps both players' reach vectors under
the blueprint, and returns both seats' values.

Values are *unnormalized counterfactual values*: ``U[r, h] = sum over opponent pairs o that fit
beside h and the board of reach_opp(o) * E[payoff of r | h, o, board]``. A chance node (a board
card the sampled board does not fix) averages its children with weight ``1 / (unseen - 4)``:
given both hands the next card is uniform over the cards nobody holds, and the opponent's
range over the pairs that miss the card carries the rest of the card removal.

Where the responder gains, by street: beside its values the walk carries, per seat, street and
pair, the *gains* of its best responses below each node. At a responder node the gain is
``max_a U(a) - sum_a pi(a) U(a)`` (what the best action adds over the blueprint's own mix of
the same continuations), and gains flow up like values except that a responder node mixes its
children's gains by the blueprint's probabilities instead of taking the best child. So
``U_BR - sum of the gains`` is the value of following the blueprint everywhere below, and the
gains split the difference exactly by the street where it is made (the performance-difference
identity, proved by induction over the tree).

The showdown and fold evaluations over range vectors are in
`holdemd.evaluation.rgbr_terminals`; the tables the walk reads are built in
`holdemd.evaluation.rgbr_tables`.
"""

from __future__ import annotations

import numpy as np

from holdemd.evaluation.rgbr_tables import five_index, street_buckets
from holdemd.evaluation.rgbr_terminals import fold_values, showdown_values
from holdemd.games.compiled import SHOWDOWN
from holdemd.jit import kernel

BOARD_CARDS = (0, 3, 4, 5)  # board cards by street

DECISION = 0
CHANCE = 1


@kernel
def board_values(
    g,
    probs,
    pairs,
    card_pairs,
    frontier,
    frontier_reach,
    num_board,
    first_br_street,
    max_depth,
    tables,
    b,
    out,
    out_gain,
    with_gains,
):
    """Both seats' counterfactual values at every frontier node on sampled board ``b``.

    Below the sampled board every card is enumerated. The responder best-responds (a maximum
    per pair) on streets from ``first_br_street`` on and follows the blueprint (its real
    bucket) on the postflop streets before; the opponent always follows the blueprint.

    Parameters
    ----------
    g : Tree
        Heads-up Hold'em's betting tree.
    probs : float64[rows, A]
        The blueprint's action probabilities per infoset row.
    pairs : int64[K, 2]
        Every hole pair of the deck.
    card_pairs : int64[52, C]
        The pairs holding each card, -1 padded.
    frontier : int64[R]
        Nodes below the preflop (children of preflop decisions on a later street or terminal).
    frontier_reach : float64[R, 2, K]
        Each player's probability of playing to each frontier node, per pair (preflop only).
    num_board : int
        Cards on the sampled boards: 3, 4 or 5.
    first_br_street : int
        The first street on which the responder best-responds (1 = from the flop).
    max_depth : int
        ``GameArrays.max_depth``.
    tables : BoardTables
    b : int
        The board.
    out : float64[R, 2, K], out
        ``out[f, r, h]``: seat r's unnormalized counterfactual value with pair h at frontier
        node f (0 for pairs that clash with the board).
    out_gain : float64[R, 2, 4, K], out
        ``out_gain[f, r, s, h]``: the part of ``out[f, r, h]`` that seat r's best responses on
        street s add over following the blueprint below f (module docstring; 0 for s = 0).
    with_gains : bool
        Whether to compute ``out_gain`` (left untouched otherwise): it costs about a third
        more time.
    """
    num_pairs = pairs.shape[0]
    rest = tables.rest[b]
    m = rest.shape[0]
    flop_buckets = tables.flop_buckets[b]
    turn_buckets = tables.turn_buckets[b]
    river_buckets = tables.river_buckets[b]
    rank = tables.rank[b]
    order = tables.order[b]
    valid = tables.valid[b]
    fits = tables.fits[b]

    depth = max_depth + 4
    reach = np.zeros((depth, 2, num_pairs))
    acc = np.zeros((depth, 2, num_pairs))
    gain_streets = 4 if with_gains else 0  # the gains' loops run over no street without them
    gain = np.zeros((depth, 2, gain_streets, num_pairs))
    mixed = np.zeros((depth, num_pairs))  # the blueprint's mix of the responder's children
    live = np.zeros((depth, 2), dtype=np.bool_)
    node_at = np.zeros(depth, dtype=np.int64)
    kind = np.zeros(depth, dtype=np.int64)
    nxt = np.zeros(depth, dtype=np.int64)
    dealt = np.zeros(depth, dtype=np.int64)
    turn_at = np.zeros(depth, dtype=np.int64)
    five_at = np.zeros(depth, dtype=np.int64)
    card_at = np.zeros(depth, dtype=np.int64)
    card_sum = np.zeros(52)
    for f in range(frontier.shape[0]):
        for p in range(2):
            for k in range(num_pairs):
                reach[0, p, k] = frontier_reach[f, p, k] if fits[k] else 0.0
        node_at[0] = frontier[f]
        dealt[0] = num_board
        turn_at[0] = 0
        five_at[0] = 0
        top = 0
        entering = True
        while True:
            d = top
            finished = False
            if entering:
                entering = False
                node = node_at[d]
                for p in range(2):
                    total = 0.0
                    for k in range(num_pairs):
                        total += reach[d, p, k]
                    live[d, p] = total > 0.0
                terminal = g.node_terminal[node]
                if terminal == SHOWDOWN:
                    need = 5
                elif terminal != 0:
                    need = dealt[d]
                else:
                    need = BOARD_CARDS[g.node_street[node]]
                acc[d, :, :] = 0.0
                gain[d, :, :, :] = 0.0
                if not (live[d, 0] or live[d, 1]):
                    finished = True
                elif need > dealt[d]:
                    kind[d] = CHANCE
                    nxt[d] = 0
                elif terminal != 0:
                    for r in range(2):
                        if not live[d, 1 - r]:
                            continue
                        if terminal == SHOWDOWN:
                            c0 = g.node_contrib[node, 0]
                            c1 = g.node_contrib[node, 1]
                            fi = five_at[d]
                            showdown_values(
                                c0 if c0 < c1 else c1,
                                reach[d, 1 - r],
                                pairs,
                                rank[fi],
                                order[fi],
                                valid[fi],
                                card_sum,
                                acc[d, r],
                            )
                        else:
                            fold_values(g, node, r, reach[d, 1 - r], pairs, card_sum, acc[d, r])
                    finished = True
                else:
                    kind[d] = DECISION
                    nxt[d] = 0
                    q = g.node_player[node]
                    if live[d, 1 - q] and g.node_street[node] >= first_br_street:
                        for k in range(num_pairs):
                            acc[d, q, k] = -np.inf
                            mixed[d, k] = 0.0
            elif kind[d] == DECISION:
                node = node_at[d]
                a = nxt[d]
                if a < g.node_num_actions[node]:
                    nxt[d] = a + 1
                    q = g.node_player[node]
                    buckets = street_buckets(
                        g.node_street[node],
                        flop_buckets,
                        turn_buckets,
                        river_buckets,
                        turn_at[d],
                        five_at[d],
                    )
                    base = g.node_row_base[node]
                    for k in range(num_pairs):
                        reach[d + 1, 1 - q, k] = reach[d, 1 - q, k]
                        reach[d + 1, q, k] = reach[d, q, k] * probs[base + buckets[k], a]
                    node_at[d + 1] = g.node_children[node, a]
                    dealt[d + 1] = dealt[d]
                    turn_at[d + 1] = turn_at[d]
                    five_at[d + 1] = five_at[d]
                    top = d + 1
                    entering = True
                    continue
                q = g.node_player[node]
                st = g.node_street[node]
                if with_gains and live[d, 1 - q] and st >= first_br_street:
                    for k in range(num_pairs):
                        gain[d, q, st, k] += acc[d, q, k] - mixed[d, k]
                finished = True
            else:  # CHANCE: deal the next card of rest
                i = nxt[d]
                river = dealt[d] == 4
                if river and num_board == 3 and i == turn_at[d]:
                    i += 1
                if i < m:
                    nxt[d] = i + 1
                    card = rest[i]
                    card_at[d] = card
                    for p in range(2):
                        for k in range(num_pairs):
                            reach[d + 1, p, k] = reach[d, p, k]
                        for t in range(card_pairs.shape[1]):
                            k = card_pairs[card, t]
                            if k >= 0:
                                reach[d + 1, p, k] = 0.0
                    node_at[d + 1] = node_at[d]
                    dealt[d + 1] = dealt[d] + 1
                    turn_at[d + 1] = turn_at[d] if river else i
                    if not river:
                        five_at[d + 1] = 0
                    elif num_board == 3:
                        five_at[d + 1] = five_index(turn_at[d], i)
                    else:
                        five_at[d + 1] = i
                    top = d + 1
                    entering = True
                    continue
                # Given both hands, the next card is uniform over the cards nobody holds
                # (chance nodes occur only in the full-deck game).
                weight = 1.0 / (52 - dealt[d] - 4)
                for r in range(2):
                    for k in range(num_pairs):
                        acc[d, r, k] *= weight
                    for st in range(dealt[d] - 1, gain_streets):  # the card's street and later
                        for k in range(num_pairs):
                            gain[d, r, st, k] *= weight
                finished = True
            if not finished:
                continue
            if top == 0:
                break
            # Frame `top` is done: fold its values into its parent.
            c = top
            p = top - 1
            if kind[p] == CHANCE:
                card = card_at[p]
                first = dealt[p] - 1  # the street this card starts (3 dealt: the turn, 2)
                for r in range(2):
                    for t in range(card_pairs.shape[1]):
                        k = card_pairs[card, t]
                        if k >= 0:
                            acc[c, r, k] = 0.0
                            for st in range(first, gain_streets):
                                gain[c, r, st, k] = 0.0
                    for k in range(num_pairs):
                        acc[p, r, k] += acc[c, r, k]
                    for st in range(first, gain_streets):
                        for k in range(num_pairs):
                            gain[p, r, st, k] += gain[c, r, st, k]
            else:
                node = node_at[p]
                q = g.node_player[node]
                a = nxt[p] - 1
                street = g.node_street[node]
                if live[p, 1 - q]:
                    buckets = street_buckets(
                        street,
                        flop_buckets,
                        turn_buckets,
                        river_buckets,
                        turn_at[p],
                        five_at[p],
                    )
                    base = g.node_row_base[node]
                    if street < first_br_street:
                        for k in range(num_pairs):
                            acc[p, q, k] += probs[base + buckets[k], a] * acc[c, q, k]
                    else:
                        for k in range(num_pairs):
                            if acc[c, q, k] > acc[p, q, k]:
                                acc[p, q, k] = acc[c, q, k]
                        if with_gains:
                            for k in range(num_pairs):
                                mixed[p, k] += probs[base + buckets[k], a] * acc[c, q, k]
                    for st in range(street, gain_streets):
                        for k in range(num_pairs):
                            gain[p, q, st, k] += probs[base + buckets[k], a] * gain[c, q, st, k]
                if live[p, q]:
                    for k in range(num_pairs):
                        acc[p, 1 - q, k] += acc[c, 1 - q, k]
                    for st in range(street, gain_streets):
                        for k in range(num_pairs):
                            gain[p, 1 - q, st, k] += gain[c, 1 - q, st, k]
            top = p
        for r in range(2):
            for k in range(num_pairs):
                out[f, r, k] = acc[0, r, k] if fits[k] else 0.0
                for st in range(gain_streets):
                    out_gain[f, r, st, k] = gain[0, r, st, k] if fits[k] else 0.0
