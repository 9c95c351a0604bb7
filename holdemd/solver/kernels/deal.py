"""Dealing: sample a deal's cards, then turn cards into buckets and showdown ranks.

A deal is ``cards_per_deal`` distinct cards from the game's deck: each player's private cards
in player order, then the board. ``deal_outcome`` is the only place that knows what cards mean
for a game; the exact evaluator calls it on every enumerated deal, the sampler on sampled ones,
so both agree by construction.
"""

from __future__ import annotations

from numba import njit

from holdemd.games.compiled import DEAL_KUHN, DEAL_LEDUC
from holdemd.solver.kernels.rng import below


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def deal_outcome(deal_kind, cards, num_players, buckets_out, ranks_out):  # type: ignore[no-untyped-def]
    """Fill each player's bucket per street and showdown rank from a deal's cards.

    Parameters
    ----------
    deal_kind : int
        ``DEAL_*`` constant of the game.
    cards : int64[cards_per_deal]
    num_players : int
    buckets_out : int64[P, S]
        Card class of each player on each street.
    ranks_out : int64[P]
        Showdown strength; higher wins, equal splits.
    """
    if deal_kind == DEAL_KUHN:
        # Card codes are ranks; the higher card wins.
        for p in range(num_players):
            buckets_out[p, 0] = cards[p]
            ranks_out[p] = cards[p]
    elif deal_kind == DEAL_LEDUC:
        # Card code = 2 * rank + suit; the public card follows the private cards.
        public = cards[num_players] // 2
        for p in range(num_players):
            private = cards[p] // 2
            buckets_out[p, 0] = private
            buckets_out[p, 1] = 3 * private + public
            # A pair with the public card beats any high card; otherwise the higher rank wins.
            ranks_out[p] = 3 + private if private == public else private
