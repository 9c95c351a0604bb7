"""The numba side of local best response (see `holdemd.evaluation.lbr` for the method).

`lbr_deals` plays LBR's hands; the helpers below it are inlined into it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holdemd.cards.isomorphism import suit_rank_bit
from holdemd.evaluation.equity import Range, range_equities, unseen_cards
from holdemd.evaluation.policies import action_probabilities
from holdemd.evaluation.tree_kernels import called_value, pick_continuing
from holdemd.games.compiled import CHECK_CALL, DEAL_HOLDEM, FOLD
from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.deal import draw_cards, hole_pair_bucket
from holdemd.solver.kernels.rng import next_u64, uniform

# counts[] layout
COUNT_DECISIONS = 0
COUNT_FOLDS = 1
COUNT_CALLS = 2
COUNT_RAISES = 3
NUM_COUNTS = 4

BOARD_CARDS = (0, 3, 4, 5)  # cards on the board per street


class LbrSettings(NamedTuple):
    pairs: np.ndarray  # int64[K, 2]: every hole pair of the deck (`opponent_pairs`)
    menu: np.ndarray  # bool[N, A]: actions LBR may take (`menu_mask`)
    greedy_preflop: bool  # choose greedily preflop too, among the menu (else check/call)
    runouts: int  # random run-outs for LBR's flop (and greedy preflop) equities
    # Fresh random run-outs for the equity of an all-in called before the turn (independent of
    # the decision's, which would otherwise flatter the choices it made).
    value_runouts: int


class Beliefs(NamedTuple):
    """What LBR knows about the blueprint's hole cards, updated as the hand goes on."""

    hands: Range  # every pair, weighted by its probability given what LBR has seen
    buckets: np.ndarray  # int64[K]: each pair's bucket on the current street
    probs: np.ndarray  # float64[K, A]: each pair's action probabilities at the latest decision


class ShowdownEquity(NamedTuple):
    """LBR's equity against each pair at a showdown, kept while it is valid."""

    equity: np.ndarray  # float64[K]
    street: np.ndarray  # int64[1]: the street ``equity`` holds; -1: none
    runouts: int  # random run-outs before the turn
    rng: np.ndarray  # uint64[1]


@inline_kernel
def _normalize(weight):
    total = 0.0
    for k in range(weight.shape[0]):
        total += weight[k]
    if total > 0.0:
        for k in range(weight.shape[0]):
            weight[k] /= total
    return total


@inline_kernel
def _choose(g, node, me, blueprint, menu, beliefs, equity, probs):
    """LBR's action at ``node``: the largest check-down value (ties go to the earlier action
    in the order check/call, raises ascending, fold).

    Parameters
    ----------
    g : GameArrays
    node : int
        LBR's decision.
    me : int
        LBR's seat.
    blueprint : PolicyArrays
    menu : bool[N, A]
        Actions LBR may take.
    beliefs : Beliefs
    equity : float64[K]
        LBR's equity against each pair on this street.
    probs : float64[1, A]
        Scratch.
    """
    them = 1 - me
    weight = beliefs.hands.weight
    n = g.node_num_actions[node]
    wp = 0.0
    for k in range(weight.shape[0]):
        wp += weight[k] * equity[k]
    mine = g.node_contrib[node, me]
    theirs = g.node_contrib[node, them]
    best = -np.inf
    best_action = 0
    # A fold, when legal, is action 0: visit it last, so check/call comes first.
    shift = 1 if g.node_action_kind[node, 0] == FOLD else 0
    for step in range(n):
        a = (step + shift) % n
        if not menu[node, a]:
            continue
        kind = g.node_action_kind[node, a]
        amount = g.node_action_amount[node, a]
        if kind == FOLD:
            value = -mine
        elif kind == CHECK_CALL:
            at_stake = amount if amount < theirs else theirs
            value = (2.0 * wp - 1.0) * at_stake
        else:
            child = g.node_children[node, a]
            fold_at = -1
            if g.node_player[child] == them:
                for b in range(g.node_num_actions[child]):
                    if g.node_action_kind[child, b] == FOLD:
                        fold_at = b
            folds = 0.0
            calls = 0.0
            calls_won = 0.0
            m = g.node_num_actions[child]
            for k in range(weight.shape[0]):
                if weight[k] <= 0.0:
                    continue
                fold = 0.0
                if fold_at >= 0:
                    bucket = beliefs.buckets[k]
                    action_probabilities(blueprint, g.node_row_base, child, bucket, m, probs, 0)
                    fold = probs[0, fold_at]
                folds += weight[k] * fold
                calls += weight[k] * (1.0 - fold)
                calls_won += weight[k] * (1.0 - fold) * equity[k]
            wp_call = calls_won / calls if calls > 0.0 else 0.0
            value = folds * theirs + calls * (2.0 * wp_call - 1.0) * amount
        if value > best:
            best = value
            best_action = a
    return best_action


@inline_kernel
def _deal_board(known, num_known, num_new, hands, board, num_board, rng, scratch):
    """Deal ``num_new`` board cards after ``board[:num_board]``, as the real deal would.

    The blueprint's hole pair is drawn from the range first and kept off the board, so the new
    cards follow their true distribution given everything LBR has seen (a range that holds
    aces makes an ace on the board less likely); then the pair is forgotten again.

    Parameters
    ----------
    known : int64[>= num_known + num_board + 2]
        LBR's own cards first (``known[:num_known]``); the rest is scratch.
    num_known : int
    num_new : int
        Board cards to deal.
    hands : Range
        The blueprint's range.
    board : int64[5], in/out
    num_board : int
        Board cards already dealt.
    rng : uint64[1]
    scratch : int64[52]
    """
    weight = hands.weight
    u = uniform(rng)
    pick = 0
    cumulative = 0.0
    for k in range(weight.shape[0]):
        if weight[k] > 0.0:
            pick = k
            cumulative += weight[k]
            if u < cumulative:
                break
    for i in range(num_board):
        known[num_known + i] = board[i]
    known[num_known + num_board] = hands.pairs[pick, 0]
    known[num_known + num_board + 1] = hands.pairs[pick, 1]
    n = unseen_cards(known, num_known + num_board + 2, scratch)
    draw_cards(scratch, n, num_new, rng, board, num_board)


@inline_kernel
def _expected_equity(weight, pair_probs, action, equity):
    """LBR's equity over the range, after the blueprint takes ``action`` (-1: as it stands).

    Parameters
    ----------
    weight : float64[K]
        The range's weights.
    pair_probs : float64[K, A]
        Each pair's probability of ``action``.
    action : int
    equity : float64[K]
        LBR's equity against each pair.
    """
    total = 0.0
    won = 0.0
    for k in range(weight.shape[0]):
        if weight[k] <= 0.0:
            continue
        w = weight[k] if action < 0 else weight[k] * pair_probs[k, action]
        total += w
        won += w * equity[k]
    return won / total if total > 0.0 else 0.5


@inline_kernel
def _showdown_equities(showdown, street, h0, h1, board, num_board, hands):
    """Fill ``showdown.equity`` (LBR's equity against each pair at a showdown) unless it
    already holds this street's; before the turn it is not kept (the run-outs are sampled
    afresh each time).

    Parameters
    ----------
    showdown : ShowdownEquity
    street : int
    h0, h1 : int
        LBR's hole cards.
    board : int64[5]
    num_board : int
        Board cards dealt.
    hands : Range
        The blueprint's range.
    """
    if showdown.street[0] == street:
        return
    range_equities(h0, h1, board, num_board, hands, showdown.runouts, showdown.rng, showdown.equity)
    showdown.street[0] = street if num_board >= 4 else -1


@kernel
def lbr_deals(g, blueprint, settings, num_deals, rng, out, counts):
    """Play LBR with each seat's cards of ``num_deals`` deals; ``out[d, s]`` is LBR's expected
    payoff in chips in seat s, given its cards, the board and the public actions sampled.

    The blueprint's hole cards are never used: they are integrated out over the range, which is
    their exact posterior. At a blueprint decision the action is sampled from its probability
    over the range, actions ending the hand are scored exactly, and a showdown scores LBR's
    equity against the range (the range after the call, for a call); the board is dealt street
    by street as `_deal_board` says. All of this leaves the expectation unchanged.

    Parameters
    ----------
    g : GameArrays
        Heads-up Hold'em (DEAL_HOLDEM or DEAL_HOLDEM_FIXED_BOARD).
    blueprint : PolicyArrays
    settings : LbrSettings
    num_deals : int
    rng : uint64[1]
        Deals the hole cards and seeds each seat's own stream (board, actions, run-outs).
    out : float64[num_deals, 2], out
    counts : int64[NUM_COUNTS]
        Added to: LBR decisions, folds, checks/calls, bets/raises.
    """
    pairs = settings.pairs
    menu = settings.menu
    num_pairs = pairs.shape[0]
    width = g.node_children.shape[1]
    holdem = g.deal_kind == DEAL_HOLDEM
    deck = g.deck.copy()
    cards = np.zeros(g.cards_per_deal, dtype=np.int64)
    board = np.zeros(5, dtype=np.int64)
    known = np.zeros(9, dtype=np.int64)
    mine = np.zeros(52, dtype=np.bool_)
    weight = np.zeros(num_pairs)
    pair_buckets = np.zeros(num_pairs, dtype=np.int64)
    pair_probs = np.zeros((num_pairs, width))
    hands = Range(pairs, weight)
    beliefs = Beliefs(hands, pair_buckets, pair_probs)
    equity = np.zeros(num_pairs)  # for LBR's decisions on this street
    probs = np.zeros(width)  # the blueprint's probabilities over its range
    choice_probs = np.zeros((1, width))  # scratch of `_choose`
    scratch = np.zeros(52, dtype=np.int64)
    play_rng = np.zeros(1, dtype=np.uint64)
    showdown = ShowdownEquity(
        np.zeros(num_pairs), np.zeros(1, dtype=np.int64), settings.value_runouts, play_rng
    )
    seat_seeds = np.zeros(2, dtype=np.uint64)
    for d in range(num_deals):
        draw_cards(deck, deck.shape[0], g.cards_per_deal, rng, cards, 0)
        seat_seeds[0] = next_u64(rng)
        seat_seeds[1] = next_u64(rng)
        for me in range(2):
            them = 1 - me
            play_rng[0] = seat_seeds[me]
            h0 = cards[2 * me]
            h1 = cards[2 * me + 1]
            known[0] = h0
            known[1] = h1
            mine[:] = False
            mine[h0] = True
            mine[h1] = True
            for k in range(num_pairs):
                weight[k] = 0.0 if mine[pairs[k, 0]] or mine[pairs[k, 1]] else 1.0
            _normalize(weight)
            if not holdem:
                for i in range(5):
                    board[i] = g.fixed_board[i]
            num_board = 0 if holdem else 5
            street = -1
            equity_street = -1
            showdown.street[0] = -1
            node = 0
            reach = 1.0
            total = 0.0
            while True:
                if g.node_street[node] != street:
                    street = g.node_street[node]
                    if holdem and BOARD_CARDS[street] > num_board:
                        new = BOARD_CARDS[street] - num_board
                        _deal_board(known, 2, new, hands, board, num_board, play_rng, scratch)
                        num_board = BOARD_CARDS[street]
                    board_bits = np.int64(0)
                    for i in range(num_board):
                        board_bits |= suit_rank_bit(board[i])
                    for k in range(num_pairs):
                        if weight[k] <= 0.0:
                            continue
                        c0 = pairs[k, 0]
                        c1 = pairs[k, 1]
                        if holdem:
                            for i in range(num_board):
                                if board[i] == c0 or board[i] == c1:
                                    weight[k] = 0.0
                        pair_buckets[k] = hole_pair_bucket(g, street, c0, c1, board_bits)
                    _normalize(weight)
                p = g.node_player[node]
                n = g.node_num_actions[node]
                if p == them:
                    for a in range(n):
                        probs[a] = 0.0
                    for k in range(num_pairs):
                        if weight[k] > 0.0:
                            bucket = pair_buckets[k]
                            action_probabilities(
                                blueprint, g.node_row_base, node, bucket, n, pair_probs, k
                            )
                            for a in range(n):
                                probs[a] += weight[k] * pair_probs[k, a]
                    going_on = 0.0
                    last = -1
                    for a in range(n):
                        if probs[a] <= 0.0:
                            continue
                        child = g.node_children[node, a]
                        if g.node_player[child] >= 0:
                            going_on += probs[a]
                            last = a
                        elif g.node_alive[child, them] == 0:
                            total += reach * probs[a] * g.node_contrib[child, them]
                        else:
                            _showdown_equities(showdown, street, h0, h1, board, num_board, hands)
                            wp = _expected_equity(weight, pair_probs, a, showdown.equity)
                            total += reach * probs[a] * called_value(g, child, wp)
                    if last < 0:
                        break
                    a = pick_continuing(g, node, probs, last, uniform(play_rng) * going_on)
                    reach *= going_on
                    for k in range(num_pairs):
                        if weight[k] > 0.0:
                            weight[k] *= pair_probs[k, a]
                    _normalize(weight)
                    node = g.node_children[node, a]
                    continue
                counts[COUNT_DECISIONS] += 1
                if street == 0 and not settings.greedy_preflop:
                    a = 0 if g.node_action_kind[node, 0] == CHECK_CALL else 1
                else:
                    if equity_street != street:
                        range_equities(
                            h0, h1, board, num_board, hands, settings.runouts, play_rng, equity
                        )
                        equity_street = street
                    a = _choose(g, node, me, blueprint, menu, beliefs, equity, choice_probs)
                kind = g.node_action_kind[node, a]
                if kind == FOLD:
                    counts[COUNT_FOLDS] += 1
                elif kind == CHECK_CALL:
                    counts[COUNT_CALLS] += 1
                else:
                    counts[COUNT_RAISES] += 1
                child = g.node_children[node, a]
                if g.node_player[child] >= 0:
                    node = child
                    continue
                if g.node_alive[child, me] == 0:
                    total -= reach * g.node_contrib[child, me]
                else:
                    _showdown_equities(showdown, street, h0, h1, board, num_board, hands)
                    wp = _expected_equity(weight, pair_probs, -1, showdown.equity)
                    total += reach * called_value(g, child, wp)
                break
            out[d, me] = total
