"""Local best response (Lisý & Bowling 2017): a lower bound on a heads-up blueprint's exploitability.

LBR plays one seat against the blueprint. It sees its own cards and the board, and keeps the
blueprint's *range*: a weight per opponent hole pair, starting uniform over the pairs that fit
beside its cards, zeroed for pairs that clash with a new board card, and multiplied after each
blueprint action by the probability the blueprint takes that action holding that pair (Bayes).
At its own decisions it picks the action of largest expected value assuming the hand is then
checked down to a showdown:

* fold: ``-mine`` (what LBR has put in);
* check/call to ``T``: ``(2 wp - 1) T``, with ``wp`` its equity against the range;
* bet or raise to ``B``: ``fp · theirs + (1 - fp) (2 wp_call - 1) B``, with ``fp`` the
  blueprint's probability of folding to it over the range and ``wp_call`` LBR's equity against
  the part of the range that does not fold.

LBR's value is its average payoff from hands actually played, so the greedy choices only have
to be good, not exact, for the result to be a valid lower bound: no strategy, LBR's included,
wins more than a best response does.

Choices made here (documented in the README):

* LBR's bets are the tree's: its menu at a node is the tree's fold, check/call, pot-fraction
  raises and all-in there (``menu`` can narrow it). The blueprint therefore always faces a bet
  its abstraction has, and no action translation is involved: the figure measures the
  blueprint's play within its own betting abstraction.
* Preflop LBR chooses greedily between fold and check/call (the paper's ``FC`` preflop), its
  equity over ``runouts`` random boards; it does not raise, since "checked down from here" is a
  poor model of a preflop raise. ``preflop="call"`` (always check/call, the cheapest variant)
  loses to every preflop shove with any two cards, which understates exploitability badly
  against young blueprints that shove a lot; ``greedy`` also raises. The fixed-board game,
  whose board is known from the start, is greedy everywhere by default.
* Equity: exact on the river, the 46 rivers enumerated on the turn, ``runouts`` random run-outs
  shared by all pairs on the flop and preflop (a greedy choice needs only a good estimate).
* Every deal gives LBR two hands, one per seat, so the figure is the mean of its two seats'
  values, comparable to exploitability = (BR0 + BR1) / 2 (OpenSpiel's definition).

Variance reduction. The range is the exact posterior of the blueprint's hole cards given what
LBR has seen (the blueprint's policy is known and the cards are dealt uniformly), so the
blueprint's actual cards are never needed and are integrated out:

* at a blueprint decision the action is sampled from its probability over the range, and the
  actions that end the hand (a fold, a call to a showdown) are scored exactly, weighted by their
  probability, while the hand continues with the others (their total probability weighting it);
* a showdown scores LBR's equity against the range (after the call, for a call), not one hand;
  an all-in before the river adds the run-out: enumerated from the turn, 200 fresh random
  run-outs from the flop or preflop (never the ones LBR decided with, which would flatter it);
* the board is dealt street by street from the cards neither LBR nor a pair drawn from the
  range holds, which is the board's true distribution given the action so far.

Each of these replaces a random quantity by its conditional expectation, so the mean is
unchanged; on a HUNL quick blueprint the interval is ~2.4 times narrower than when the
blueprint plays its dealt cards (tests check the kernel against an exact enumeration of the
same LBR on the fixed-board game).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np

from holdemd.errors import UsageError
from holdemd.evaluation.lbr_kernel import NUM_COUNTS, LbrSettings, lbr_deals
from holdemd.evaluation.policies import Policy
from holdemd.games.compiled import (
    CHECK_CALL,
    DEAL_HOLDEM,
    DEAL_HOLDEM_FIXED_BOARD,
    FOLD,
    RAISE,
    Game,
)
from holdemd.solver.kernels.rng import make_rng_state

DECISION_RUNOUTS = 50  # random run-outs for LBR's equity when it decides on the flop or preflop
VALUE_RUNOUTS = 200  # random run-outs scoring an all-in called before the turn
CHUNK_DEALS = 200


def check_lbr_game(game: Game) -> None:
    """LBR needs heads-up Hold'em (the real game or the fixed-board one)."""
    kind = game.arrays.deal_kind
    if kind not in (DEAL_HOLDEM, DEAL_HOLDEM_FIXED_BOARD):
        raise UsageError(
            f"--lbr: local best response is for heads-up Hold'em, this run is {game.name}; "
            "use `holdemd eval --run DIR` without --lbr for its exact best response"
        )
    if game.num_players != 2:
        raise UsageError(
            f"--lbr: local best response needs a heads-up game, this run has "
            f"{game.num_players} players; use --vs to measure it against baseline bots"
        )


def opponent_pairs(game: Game) -> np.ndarray:
    """int64[K, 2]: every hole pair the blueprint can hold (from the game's deck)."""
    return np.array(list(combinations(game.arrays.deck.tolist(), 2)), dtype=np.int64)


def menu_mask(game: Game, fractions: Sequence[float] | None, allin: bool = True) -> np.ndarray:
    """bool[N, A]: the actions LBR may take at each node.

    ``None`` allows every action of the tree. Otherwise fold and check/call stay allowed, and
    each pot fraction (sized like the tree's raises: ``top + f · (pot + to_call)``) allows the
    tree raise nearest to it in chips (the smaller on a tie); ``allin`` allows the largest.
    """
    a = game.arrays
    kinds = a.node_action_kind
    mask = kinds >= 0
    if fractions is None:
        return mask
    mask = (kinds == FOLD) | (kinds == CHECK_CALL)
    for node in game.decision_nodes():
        raises = np.flatnonzero(kinds[node] == RAISE)
        if raises.size == 0:
            continue
        amounts = a.node_action_amount[node, raises]
        contrib = a.node_contrib[node]
        top, pot = float(contrib.max()), float(contrib.sum())
        to_call = top - float(contrib[int(a.node_player[node])])
        for fraction in fractions:
            wanted = top + fraction * (pot + to_call)
            mask[node, raises[int(np.argmin(np.abs(amounts - wanted)))]] = True
        if allin:
            mask[node, raises[-1]] = True
    return mask


PREFLOP_MODES = ("call", "fold-call", "greedy")


def default_preflop(game: Game) -> str:
    """Fold or call preflop in Hold'em; greedy in the fixed-board game (its board is known)."""
    return "greedy" if game.arrays.deal_kind == DEAL_HOLDEM_FIXED_BOARD else "fold-call"


def local_best_response(
    game: Game,
    blueprint: Policy,
    deals: int,
    seed: int,
    *,
    menu: np.ndarray | None = None,
    preflop: str | None = None,
    runouts: int = DECISION_RUNOUTS,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(LBR's payoffs in chips float64[deals, 2] by LBR's seat, action counts int64[4]).

    ``preflop``: ``call`` (always check/call), ``fold-call`` (greedy between fold and
    check/call, equity over ``runouts`` random boards), ``greedy`` (raises too); the default is
    `default_preflop`.
    """
    check_lbr_game(game)
    preflop = default_preflop(game) if preflop is None else preflop
    if preflop not in PREFLOP_MODES:
        raise ValueError(f"preflop must be one of {PREFLOP_MODES}, got {preflop!r}")
    menu = menu_mask(game, None) if menu is None else menu.copy()
    if preflop == "fold-call":
        a = game.arrays
        first_round = a.node_street == 0
        menu[first_round] &= a.node_action_kind[first_round] != RAISE
    settings = LbrSettings(
        opponent_pairs(game), menu, preflop != "call", int(runouts), VALUE_RUNOUTS
    )
    rng = make_rng_state(seed, stream=0x6C6272)  # "lbr"
    out = np.zeros((deals, 2))
    counts = np.zeros(NUM_COUNTS, dtype=np.int64)
    done = 0
    while done < deals:
        chunk = min(CHUNK_DEALS, deals - done)
        lbr_deals(
            game.arrays, blueprint.arrays, settings, chunk, rng, out[done : done + chunk], counts
        )
        done += chunk
        if progress is not None:
            progress(done)
    return out, counts
