"""Dealing: draw cards, then turn cards into buckets and showdown ranks.

Every kernel that deals cards (training, matches, LBR, equity run-outs, the abstraction's
training sample) draws them with :func:`draw_cards`, and every kernel that needs the bucket of
a Hold'em hole pair asks :func:`hole_pair_bucket`.

A deal is ``cards_per_deal`` distinct cards from the game's deck: each player's private cards
in player order, then the board. ``deal_outcome`` is the only place that knows what cards mean
for a game; the exact evaluator calls it on every enumerated deal, the sampler on sampled ones,
so both agree by construction.
"""

from __future__ import annotations

import numpy as np

from holdemd.cards import rank7_codes
from holdemd.cards.isomorphism import index_from_bits, suit_rank_bit
from holdemd.cards.preflop import preflop_index
from holdemd.games.compiled import DEAL_HOLDEM, DEAL_KUHN, DEAL_LEDUC
from holdemd.jit import inline_kernel
from holdemd.solver.kernels.rng import below


@inline_kernel
def draw_cards(pool, n, k, rng, out, first):
    """Put ``k`` distinct random cards of ``pool[:n]`` at ``out[first:first + k]``.

    A partial Fisher-Yates shuffle: each of the ``n! / (n - k)!`` ordered draws is equally
    likely (``rng.below`` is exactly uniform).

    Parameters
    ----------
    pool : int64[>= n]
        The cards to draw from; permuted in place (any order is a valid start, so a deck is
        never reset between deals).
    n : int
        Cards in the pool, k <= n.
    k : int
        Cards to draw.
    rng : uint64[1]
        Generator state (``rng.make_rng_state``).
    out : int64[>= first + k], out
    first : int
        Where in ``out`` the cards go.
    """
    for i in range(k):
        j = i + below(rng, n - i)
        tmp = pool[i]
        pool[i] = pool[j]
        pool[j] = tmp
        out[first + i] = pool[i]


@inline_kernel
def hole_pair_bucket(g, street, c0, c1, board_bits):
    """The bucket of Hold'em hole cards (c0, c1) on ``street``.

    Parameters
    ----------
    g : GameArrays
        ``DEAL_HOLDEM``: the bucket is ``g.bucket_tables[street]`` at the hand's suit-isomorphic
        index. ``DEAL_HOLDEM_FIXED_BOARD``: the board is known, so the bucket is the pair
        itself, on every street: the colex rank of the cards' positions in ``g.deck``
        (``hi * (hi - 1) / 2 + lo``, which is the order of ``holdem.fixed_board_game``'s labels).
    street : int
    c0, c1 : int
        Card codes.
    board_bits : int64
        OR of ``suit_rank_bit`` of the board cards dealt by ``street`` (``DEAL_HOLDEM`` only).

    Returns
    -------
    int64
    """
    if g.deal_kind == DEAL_HOLDEM:
        if street == 0:
            return np.int64(g.bucket_tables[0][preflop_index(c0, c1)])
        hole_bits = suit_rank_bit(c0) | suit_rank_bit(c1)
        return np.int64(g.bucket_tables[street][index_from_bits(street, hole_bits, board_bits)])
    s0 = g.card_slot[c0]
    s1 = g.card_slot[c1]
    hi = s0 if s0 > s1 else s1
    lo = s1 if s0 > s1 else s0
    return np.int64(hi * (hi - 1) // 2 + lo)


@inline_kernel
def deal_outcome(g, cards, buckets_out, ranks_out):
    """Fill each player's bucket per street and showdown rank from a deal's cards.

    Parameters
    ----------
    g : GameArrays
        ``deal_kind`` selects the card logic; Hold'em reads ``bucket_tables`` (or
        ``fixed_board`` and ``card_slot``).
    cards : int64[cards_per_deal]
        Private cards of every player in player order, then the board (if dealt).
    buckets_out : int64[P, S]
        Card class of each player on each street.
    ranks_out : int64[P]
        Showdown strength; higher wins, equal splits.
    """
    num_players = g.num_players
    kind = g.deal_kind
    if kind == DEAL_KUHN:
        # Card codes are ranks; the higher card wins.
        for p in range(num_players):
            buckets_out[p, 0] = cards[p]
            ranks_out[p] = cards[p]
    elif kind == DEAL_LEDUC:
        # Card code = 2 * rank + suit; the public card follows the private cards.
        public = cards[num_players] // 2
        for p in range(num_players):
            private = cards[p] // 2
            buckets_out[p, 0] = private
            buckets_out[p, 1] = 3 * private + public
            # A pair with the public card beats any high card; otherwise the higher rank wins.
            ranks_out[p] = 3 + private if private == public else private
    elif kind == DEAL_HOLDEM:
        b = 2 * num_players
        flop_bits = suit_rank_bit(cards[b]) | suit_rank_bit(cards[b + 1])
        flop_bits |= suit_rank_bit(cards[b + 2])
        turn_bits = flop_bits | suit_rank_bit(cards[b + 3])
        river_bits = turn_bits | suit_rank_bit(cards[b + 4])
        for p in range(num_players):
            h0 = cards[2 * p]
            h1 = cards[2 * p + 1]
            buckets_out[p, 0] = hole_pair_bucket(g, 0, h0, h1, np.int64(0))
            buckets_out[p, 1] = hole_pair_bucket(g, 1, h0, h1, flop_bits)
            buckets_out[p, 2] = hole_pair_bucket(g, 2, h0, h1, turn_bits)
            buckets_out[p, 3] = hole_pair_bucket(g, 3, h0, h1, river_bits)
            ranks_out[p] = rank7_codes(
                h0, h1, cards[b], cards[b + 1], cards[b + 2], cards[b + 3], cards[b + 4]
            )
    else:  # DEAL_HOLDEM_FIXED_BOARD
        board = g.fixed_board
        for p in range(num_players):
            h0 = cards[2 * p]
            h1 = cards[2 * p + 1]
            pair = hole_pair_bucket(g, 0, h0, h1, np.int64(0))
            for s in range(buckets_out.shape[1]):
                buckets_out[p, s] = pair
            ranks_out[p] = rank7_codes(h0, h1, board[0], board[1], board[2], board[3], board[4])
