"""Dealing: sample a deal's cards, then turn cards into buckets and showdown ranks.

A deal is ``cards_per_deal`` distinct cards from the game's deck: each player's private cards
in player order, then the board. ``deal_outcome`` is the only place that knows what cards mean
for a game; the exact evaluator calls it on every enumerated deal, the sampler on sampled ones,
so both agree by construction.
"""

from __future__ import annotations

from holdemd.cards import rank7_codes
from holdemd.cards.isomorphism import index_from_bits, preflop_index, suit_rank_bit
from holdemd.games.compiled import DEAL_HOLDEM, DEAL_KUHN, DEAL_LEDUC
from holdemd.jit import inline_kernel
from holdemd.solver.kernels.rng import below


@inline_kernel
def sample_cards(deck, k, state, cards_out):  # type: ignore[no-untyped-def]
    """Draw ``k`` distinct cards into ``cards_out[:k]``.

    Parameters
    ----------
    deck : int64[C]
        Working copy of the deck; permuted in place (any permutation is a valid start, so it
        is never reset between deals).
    k : int
        Cards to draw, k <= C.
    state : uint64[1]
        Generator state.
    cards_out : int64[>= k]
    """
    n = deck.shape[0]
    for i in range(k):
        j = i + below(state, n - i)
        tmp = deck[i]
        deck[i] = deck[j]
        deck[j] = tmp
        cards_out[i] = deck[i]


@inline_kernel
def deal_outcome(g, cards, buckets_out, ranks_out):  # type: ignore[no-untyped-def]
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
            hole_bits = suit_rank_bit(h0) | suit_rank_bit(h1)
            buckets_out[p, 0] = g.bucket_tables[0][preflop_index(h0, h1)]
            buckets_out[p, 1] = g.bucket_tables[1][index_from_bits(1, hole_bits, flop_bits)]
            buckets_out[p, 2] = g.bucket_tables[2][index_from_bits(2, hole_bits, turn_bits)]
            buckets_out[p, 3] = g.bucket_tables[3][index_from_bits(3, hole_bits, river_bits)]
            ranks_out[p] = rank7_codes(
                h0, h1, cards[b], cards[b + 1], cards[b + 2], cards[b + 3], cards[b + 4]
            )
    else:  # DEAL_HOLDEM_FIXED_BOARD
        # The board is known, so a player's information is their hole pair, on every street.
        board = g.fixed_board
        for p in range(num_players):
            s0 = g.card_slot[cards[2 * p]]
            s1 = g.card_slot[cards[2 * p + 1]]
            hi = s0 if s0 > s1 else s1
            lo = s1 if s0 > s1 else s0
            pair = hi * (hi - 1) // 2 + lo
            for s in range(buckets_out.shape[1]):
                buckets_out[p, s] = pair
            ranks_out[p] = rank7_codes(
                cards[2 * p], cards[2 * p + 1], board[0], board[1], board[2], board[3], board[4]
            )
