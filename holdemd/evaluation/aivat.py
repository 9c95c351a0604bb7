"""AIVAT for head-to-head matches in heads-up Hold'em (Burch, Schmid, Moravčík, Morrill and
Bowling, "AIVAT: A New Variance Reduction Technique for Agent Evaluation in Imperfect
Information Games", AAAI 2018).

AIVAT adds control variates to each sampled outcome: wherever the hand goes on by a random
event whose probabilities are known, it adds ``sum_x p(x) v(h.x) - v(h.x_taken)``, the gap
between what a value function ``v`` expected of the event and what it got. Given the history
before the event the term has mean zero whatever ``v`` is, so the estimate stays unbiased; the
better ``v`` tracks the real value, the more of the event's luck it cancels. In a holdemd match
both strategies are known (the blueprint, the bots, the snapshots) and so are both hands, so
every event qualifies:

* every decision at which the sampled play continues by a sampled action (both seats; the
  actions that end the hand are already scored exactly, `match.sampled_value`), and
* every street's cards (flop, turn, river).

Two value functions, both cheap and both computed from seat 0's showdown equity given both hands
and the board so far (`aivat_kernel.street_equity`), one per deal and street, shared by both
seats' plays):

* at the first node of a street (the chance corrections) the *checkdown value*: the matched
  stake times (2 * equity - 1), the hand's value if it were checked down from there. Equity is
  a martingale over the cards, so the mean of this ``v`` over the next street's cards is ``v``
  with the current street's equity: the expected term needs no enumeration. Its change from
  street to street is exactly the card luck of a hand played to showdown.
* after an action within a street (the action corrections) one step of the known strategies
  ahead: the next actor's probabilities times the value of each action, exact for a fold, by
  equity for a showdown, the checkdown value otherwise. The checkdown value alone cannot tell
  a bet from a check (neither changes the matched stake), so its action corrections vanish;
  the step ahead sees the folds a bet wins and the stake a call adds (against ``call`` the
  variance ratio goes from 1.08 to 2.0, for ~10 µs more per deal: the step reads one more
  strategy row per action, a cache miss in a blueprint's table).

Equities are exact on the river and the turn (44 rivers); on the flop and preflop they are the
mean of ``EQUITY_SAMPLES`` random run-outs drawn from a generator of their own, an unbiased
estimate that keeps every correction zero-mean (its noise is independent of the cards and the
actions that follow; exact flop equity, 990 run-outs, cost 8 µs a deal and gained nothing
measurable).

The probabilities used are those the match really samples with: cards are dealt uniformly
from the unseen ones (`solver.kernels.deal.draw_cards`, the whole deal up front, independent
of the actions, which see only the cards dealt so far), and a continuing action ``c`` is picked
with probability ``p(c) / going_on`` while the play's weight is multiplied by ``going_on``, so
the action correction is ``W * (sum_c p(c) v(h.c) - going_on * v(h.c_taken))``. Both seats'
plays of a deal use the same random numbers as without AIVAT, and the corrections draw none of
them, so the plain values are exactly `play_match`'s and the two estimates share their deals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from holdemd.evaluation.aivat_kernel import play_deals_aivat
from holdemd.evaluation.match import CHUNK_DEALS, match_inputs, uses_allin_ev
from holdemd.evaluation.policies import Policy
from holdemd.games.compiled import Game

EQUITY_SAMPLES = 16  # random run-outs for a deal's preflop and flop equity


class MatchValues(NamedTuple):
    """The hero's payoffs (chips) per deal and seat, without and with AIVAT's corrections."""

    plain: np.ndarray  # float64[deals, 2]: what `play_match` gives
    aivat: np.ndarray  # float64[deals, 2]


def aivat_applies(game: Game) -> bool:
    """AIVAT needs both hands' equity: heads-up Hold'em with a dealt board."""
    return uses_allin_ev(game)


def play_match_aivat(
    game: Game,
    hero: Policy,
    opponent: Policy,
    deals: int,
    seed: int,
    *,
    expected: bool | None = None,
    samples: int = EQUITY_SAMPLES,
    progress: Callable[[int], None] | None = None,
) -> MatchValues:
    """`play_match` (all-in EV on) with AIVAT: the same deals and plays, corrected as well."""
    if not aivat_applies(game):
        raise ValueError("AIVAT needs heads-up Hold'em with a dealt board")
    inputs = match_inputs(game, hero, opponent, seed, expected, allin_ev=True)
    plain = np.zeros((deals, 2))
    aivat = np.zeros((deals, 2))
    buffer = np.zeros((2, min(CHUNK_DEALS, deals), 2))
    done = 0
    while done < deals:
        chunk = min(CHUNK_DEALS, deals - done)
        play_deals_aivat(
            inputs.arrays,
            inputs.ends,
            inputs.matchup,
            inputs.settings,
            chunk,
            inputs.rng,
            samples,
            buffer,
        )
        plain[done : done + chunk] = buffer[0, :chunk]
        aivat[done : done + chunk] = buffer[1, :chunk]
        done += chunk
        if progress is not None:
            progress(done)
    return MatchValues(plain, aivat)
