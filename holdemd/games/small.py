"""Kuhn and Leduc poker, with the rules and conventions of OpenSpiel (see REFERENCE.md).

Both are two-player limit games in which player 0 acts first on every street. Cards are
abstracted losslessly: suits never matter, so a Leduc infoset is (private rank, public rank,
history) and Leduc has 288 infosets rather than 936.
"""

from __future__ import annotations

import numpy as np

from holdemd.games.betting import LimitRules, build_game_arrays
from holdemd.games.compiled import DEAL_KUHN, DEAL_LEDUC, Game, GameArrays

RANKS = ("J", "Q", "K")


def _utility_scale(arrays: GameArrays) -> float:
    # The most a player can lose is what they put in; no payoff is larger in absolute value.
    terminal = arrays.node_player < 0
    return float(arrays.node_contrib[terminal].max())


def kuhn() -> Game:
    """Kuhn poker: J < Q < K, ante 1, one bet of 1; 12 infosets."""
    rules = LimitRules(
        num_players=2,
        ante=1.0,
        bet_sizes=(1.0,),
        max_raises=(1,),
        letters={"fold": "p", "check": "p", "call": "b", "raise": "b"},
    )
    # Card codes are ranks 0..2; the bucket on the only street is the private card.
    arrays, histories, num_rows = build_game_arrays(
        rules, street_buckets=(3,), deal_kind=DEAL_KUHN, deck=(0, 1, 2), cards_per_deal=2
    )
    # Every Kuhn node has exactly two actions, exported as [pass, bet] in table order.
    export_slot = np.where(arrays.node_action_kind >= 0, np.arange(2, dtype=np.int8), -1)
    return Game(
        name="kuhn",
        arrays=arrays,
        histories=histories,
        num_rows=num_rows,
        max_actions=int(arrays.node_children.shape[1]),
        utility_scale=_utility_scale(arrays),
        bucket_labels=(RANKS,),
        export_actions=("pass", "bet"),
        export_slot=export_slot.astype(np.int8),
    )


def leduc() -> Game:
    """Leduc poker: J, Q, K in two suits, raises of 2 then 4, at most 2 per round; 288 infosets."""
    rules = LimitRules(
        num_players=2,
        ante=1.0,
        bet_sizes=(2.0, 4.0),
        max_raises=(2, 2),
        letters={"fold": "f", "check": "c", "call": "c", "raise": "r"},
    )
    # Card code = 2 * rank + suit. Bucket: private rank on street 0; 3 * private + public rank
    # on street 1 (see solver.kernels.deal).
    arrays, histories, num_rows = build_game_arrays(
        rules,
        street_buckets=(3, 9),
        deal_kind=DEAL_LEDUC,
        deck=tuple(range(6)),
        cards_per_deal=3,
    )
    # Export columns are [fold, call, raise]: the action kind is the column.
    export_slot = arrays.node_action_kind.copy()
    round2 = tuple(p + q for p in RANKS for q in RANKS)
    return Game(
        name="leduc",
        arrays=arrays,
        histories=histories,
        num_rows=num_rows,
        max_actions=int(arrays.node_children.shape[1]),
        utility_scale=_utility_scale(arrays),
        bucket_labels=(RANKS, round2),
        export_actions=("fold", "call", "raise"),
        export_slot=export_slot,
    )
