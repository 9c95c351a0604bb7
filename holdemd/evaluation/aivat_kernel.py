"""AIVAT's control variates for heads-up Hold'em matches, as numba kernels (`aivat` says why).

`play_deals_aivat` is `holdemd.evaluation.match.play_deals` with the corrections added: it plays
the same deals with the same random numbers through the same inline pieces (`acting_policy`,
`terminal_value`, `pick_continuing`), so its plain values equal `play_match`'s bit for bit, and
adds to each play

* an action correction at every decision where the hand continues by a sampled action:
  ``W * (sum_c p(c) v(h.c) - going_on * v(h.c_taken))`` over the actions ``c`` that do not end
  the hand, where ``W`` is the play's weight before the decision and ``going_on`` the total
  probability of those actions (the sampled play picks ``c`` with probability
  ``p(c) / going_on`` and multiplies ``W`` by ``going_on``; the hand-ending actions are scored
  exactly, so they need none);
* a chance correction where the next street's cards come: ``W * (v_before - v_after)``, the
  value of the new node with the equity before and after the cards (``v_before`` is the exact
  mean of ``v_after`` over the cards, see `street_equity`).

``v`` is `checkdown_value`: the matched stake times (2 * equity - 1), the hand's value if it
were checked down from here with the pending bet, if any, returned.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holdemd.evaluation.equity import allin_equity
from holdemd.evaluation.match import AllinEquity, Deal, acting_policy, terminal_value
from holdemd.evaluation.policies import action_probabilities
from holdemd.evaluation.tree_kernels import called_value, pick_continuing
from holdemd.games.compiled import SHOWDOWN
from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.deal import deal_outcome, draw_cards
from holdemd.solver.kernels.payoff import payoff
from holdemd.solver.kernels.rng import next_u64, uniform

# Mixed into a deal's action seed to seed its equity estimates (SplitMix64 puts the two at
# unrelated points of its sequence), so the deal generator itself draws nothing extra and the
# plain values stay those of `play_deals`.
EQUITY_STREAM = np.uint64(0x41495641545F4551)  # "AIVAT_EQ"


class StreetEquity(NamedTuple):
    """Seat 0's showdown equity with the board known through each street, for the current
    deal, computed on first use and shared by both seats' plays."""

    equity: np.ndarray  # float64[4]: per street; -1 until computed
    rng: np.ndarray  # uint64[1]: the estimates' run-outs
    scratch: np.ndarray  # int64[52]
    samples: int  # random run-outs for the preflop and flop estimates


@inline_kernel
def street_equity(deal, street, streets):
    """Seat 0's equity on ``street`` of ``deal``: exact on the river (the ranks) and the turn
    (44 rivers); on the flop and preflop the mean of ``streets.samples`` random run-outs, an
    unbiased estimate of the exact value, drawn from a generator of its own.

    Exact means: the equity on a street is the mean of the next street's over its cards,
    dealt uniformly from the unseen ones as the match deals them.

    Parameters
    ----------
    deal : Deal
    street : int
        0 (preflop) to 3 (river).
    streets : StreetEquity
        Read, and filled for ``street`` on first use.
    """
    equity = streets.equity
    if equity[street] < 0.0:
        if street == 3:
            r0 = deal.ranks[0]
            r1 = deal.ranks[1]
            equity[3] = 1.0 if r0 > r1 else (0.5 if r0 == r1 else 0.0)
        else:
            num_board = 0 if street == 0 else street + 2
            samples = streets.samples if street <= 1 else 0
            equity[street] = allin_equity(
                deal.cards, num_board, samples, streets.rng, streets.scratch
            )
    return equity[street]


@inline_kernel
def checkdown_value(g, node, hero, equity0):
    """AIVAT's value function: the hero's value at ``node`` if the hand were checked down,
    with the matched stake at risk (``tree_kernels.called_value``).

    Parameters
    ----------
    g : GameArrays
    node : int
    hero : int
        0 or 1.
    equity0 : float
        Seat 0's equity.
    """
    return called_value(g, node, equity0 if hero == 0 else 1.0 - equity0)


@inline_kernel
def chance_correction(g, node, hero, deal, before, streets):
    """``v_before - v_after`` at ``node``, the first node of a street the hand has just
    reached from street ``before``.

    Parameters
    ----------
    g : GameArrays
    node : int
        A decision node on a later street than ``before``.
    hero : int
    deal : Deal
    before : int
        The street the hand comes from.
    streets : StreetEquity
    """
    old = checkdown_value(g, node, hero, street_equity(deal, before, streets))
    new = checkdown_value(g, node, hero, street_equity(deal, g.node_street[node], streets))
    return old - new


@inline_kernel
def settled_value(g, node, hero, deal, equity0):
    """The hero's value at a terminal, as the action corrections score it: a fold's payoff,
    a showdown by ``equity0`` (on the river that is the payoff; before it, the all-in EV with
    the street's equity, without drawing on the match's all-in run-outs).

    Parameters
    ----------
    g : GameArrays
    node : int
        A terminal.
    hero : int
    deal : Deal
    equity0 : float
        Seat 0's equity on the node's street.
    """
    if g.node_terminal[node] == SHOWDOWN:
        return checkdown_value(g, node, hero, equity0)
    return payoff(g.node_contrib, g.node_alive, node, deal.ranks, hero)


@inline_kernel
def lookahead_value(g, node, hero, matchup, deal, street, equity0, scratch):
    """AIVAT's value of the decision ``node``, reached by an action on ``street``: one step of
    the known strategies ahead, each action scored by `settled_value` if it ends the hand and
    by `checkdown_value` if not; at a node on the next street (its cards still to come) the
    checkdown value with the current equity, which the chance correction then takes over.

    Parameters
    ----------
    g : GameArrays
    node : int
        A decision node.
    hero : int
    matchup : Matchup
    deal : Deal
    street : int
        The street of the action that leads to ``node``.
    equity0 : float
        Seat 0's equity on ``street``.
    scratch : float64[>= 2, A]
        Row 1 receives the node's probabilities.
    """
    if g.node_street[node] != street:
        return checkdown_value(g, node, hero, equity0)
    n = g.node_num_actions[node]
    player = g.node_player[node]
    bucket = deal.buckets[player, g.node_street[node]]
    if player == hero:
        action_probabilities(matchup.hero, g.node_row_base, node, bucket, n, scratch, 1)
    else:
        action_probabilities(matchup.opponent, g.node_row_base, node, bucket, n, scratch, 1)
    total = 0.0
    for a in range(n):
        p = scratch[1, a]
        if p > 0.0:
            child = g.node_children[node, a]
            if g.node_player[child] < 0:
                total += p * settled_value(g, child, hero, deal, equity0)
            else:
                total += p * checkdown_value(g, child, hero, equity0)
    return total


@inline_kernel
def sampled_value_aivat(
    g, hero, matchup, deal, settings, allin, streets, probs, action_rng, out, d
):
    """`match.sampled_value` (the same hand, the same draws), with AIVAT's corrections:
    ``out[0, d, hero]`` the plain value, ``out[1, d, hero]`` the value plus corrections.

    Parameters
    ----------
    g : GameArrays
    hero : int
    matchup : Matchup
    deal : Deal
    settings : MatchSettings
    allin : AllinEquity
    streets : StreetEquity
    probs : float64[3, A]
        Scratch: the node's probabilities, a child's, the children's values.
    action_rng : uint64[1]
        Samples the actions.
    out : float64[2, D, 2], out
    d : int
        The deal's index in ``out``.
    """
    row = probs[0]
    values = probs[2]
    node = 0
    weight = 1.0
    total = 0.0
    correction = 0.0
    while True:
        n = acting_policy(g, matchup, hero, deal, node, probs)
        street = g.node_street[node]
        equity = street_equity(deal, street, streets)
        going_on = 0.0
        expected = 0.0
        last = -1
        for a in range(n):
            child = g.node_children[node, a]
            if g.node_player[child] < 0:
                if row[a] > 0.0:
                    value = terminal_value(g, child, hero, deal, settings, allin)
                    total += weight * row[a] * value
            elif row[a] > 0.0:
                going_on += row[a]
                values[a] = lookahead_value(g, child, hero, matchup, deal, street, equity, probs)
                expected += row[a] * values[a]
                last = a
        if last < 0:
            break
        a = pick_continuing(g, node, row, last, uniform(action_rng) * going_on)
        child = g.node_children[node, a]
        correction += weight * (expected - going_on * values[a])
        weight *= going_on
        if g.node_street[child] != street:
            correction += weight * chance_correction(g, child, hero, deal, street, streets)
        node = child
    out[0, d, hero] = total
    out[1, d, hero] = total + correction


@inline_kernel
def expected_value_aivat(
    g, ends, hero, matchup, deal, settings, allin, streets, reach, probs, out, d
):
    """`match.play_deals`' full walk with AIVAT's chance corrections, each weighted by the
    probability of reaching its node (no action is sampled, so none needs correcting).

    Parameters
    ----------
    g : GameArrays
    ends : int64[N]
    hero : int
    matchup : Matchup
    deal : Deal
    settings : MatchSettings
    allin : AllinEquity
    streets : StreetEquity
    reach : float64[N]
        Scratch.
    probs : float64[1, A]
        Scratch.
    out : float64[2, D, 2], out
        As `sampled_value_aivat`.
    d : int
    """
    num_nodes = g.node_player.shape[0]
    total = 0.0
    correction = 0.0
    reach[0] = 1.0
    i = 0
    while i < num_nodes:
        r = reach[i]
        if r == 0.0:
            i = ends[i]  # nobody plays into this subtree
            continue
        if g.node_player[i] < 0:
            total += r * terminal_value(g, i, hero, deal, settings, allin)
        else:
            n = acting_policy(g, matchup, hero, deal, i, probs)
            for a in range(n):
                child = g.node_children[i, a]
                reach[child] = r * probs[0, a]
                if reach[child] > 0.0 and g.node_street[child] != g.node_street[i]:
                    street = g.node_street[i]
                    value = chance_correction(g, child, hero, deal, street, streets)
                    correction += reach[child] * value
        i += 1
    out[0, d, hero] = total
    out[1, d, hero] = total + correction


@kernel
def play_deals_aivat(g, ends, matchup, settings, num_deals, rng, samples, out):
    """`match.play_deals` for heads-up Hold'em, returning plain and AIVAT values.

    Parameters
    ----------
    g : GameArrays
        Heads-up Hold'em with a dealt board.
    ends : int64[N]
        `match.subtree_ends` of the game.
    matchup : Matchup
    settings : MatchSettings
    num_deals : int
    rng : uint64[1]
        Advanced exactly as `match.play_deals` advances it.
    samples : int
        Random run-outs for the preflop and flop equities (`street_equity`).
    out : float64[2, num_deals, 2], out
        ``out[0, d, s]``: the hero's payoff in seat s (what `play_deals` gives);
        ``out[1, d, s]``: the same with AIVAT's corrections.
    """
    num_nodes = g.node_player.shape[0]
    deck = g.deck.copy()
    deal = Deal(
        np.zeros(g.cards_per_deal, dtype=np.int64),
        np.zeros((2, g.street_buckets.shape[0]), dtype=np.int64),
        np.zeros(2, dtype=np.int64),
    )
    allin = AllinEquity(np.zeros(4), np.zeros(1, dtype=np.uint64), np.zeros(52, dtype=np.int64))
    streets = StreetEquity(
        np.zeros(4), np.zeros(1, dtype=np.uint64), np.zeros(52, dtype=np.int64), samples
    )
    reach = np.zeros(num_nodes)
    probs = np.zeros((3, g.node_children.shape[1]))
    action_rng = np.zeros(1, dtype=np.uint64)
    for d in range(num_deals):
        draw_cards(deck, deck.shape[0], g.cards_per_deal, rng, deal.cards, 0)
        deal_outcome(g, deal.cards, deal.buckets, deal.ranks)
        allin.rng[0] = next_u64(rng)
        action_seed = next_u64(rng)
        allin.equity[:] = -1.0
        streets.rng[0] = action_seed ^ EQUITY_STREAM
        streets.equity[:] = -1.0
        for hero in range(2):
            if settings.expected:
                expected_value_aivat(
                    g, ends, hero, matchup, deal, settings, allin, streets, reach, probs, out, d
                )
            else:
                action_rng[0] = action_seed  # the same random numbers for both seats
                sampled_value_aivat(
                    g, hero, matchup, deal, settings, allin, streets, probs, action_rng, out, d
                )
