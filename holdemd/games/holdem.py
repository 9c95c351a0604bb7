"""No-limit Texas Hold'em compiled to the same arrays as Kuhn and Leduc.

Two flavours share the betting tree, the evaluator-based showdown and the payoff kernel:

* ``holdem_game``: the real game. Each player's bucket on a street is read from a per-street
  table indexed by the suit-isomorphic hand index (a card abstraction, see
  ``holdemd.abstraction``).
* ``fixed_board_game``: a tiny Hold'em whose board is known in advance and whose hole cards come
  from a small deck, so every deal can be enumerated and the exact best response of the solver
  core applies. A player's information is then just their hole pair (lossless buckets). It
  exists to check that MCCFR converges through the Hold'em code path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from holdemd.cards import format_card, preflop_class_name
from holdemd.errors import GameError
from holdemd.games.betting import build_game_arrays
from holdemd.games.compiled import (
    DEAL_HOLDEM,
    DEAL_HOLDEM_FIXED_BOARD,
    Game,
    GameArrays,
)
from holdemd.games.nolimit import NoLimitRules

NUM_CARDS = 52


def _game(
    name: str,
    arrays: GameArrays,
    histories: Sequence[str],
    num_rows: int,
    labels: tuple[tuple[str, ...], ...],
) -> Game:
    terminal = arrays.node_player < 0
    width = int(arrays.node_children.shape[1])
    return Game(
        name=name,
        arrays=arrays,
        histories=histories,
        num_rows=num_rows,
        max_actions=width,
        utility_scale=float(arrays.node_contrib[terminal].max()),
        bucket_labels=labels,
        export_actions=tuple(f"action{i}" for i in range(width)),
        export_slot=np.where(arrays.node_action_kind >= 0, np.arange(width), -1).astype(np.int8),
    )


def holdem_game(
    rules: NoLimitRules,
    bucket_counts: Sequence[int],
    bucket_tables: tuple[np.ndarray, ...],
    name: str = "holdem",
    abstraction_digest: str | None = None,
) -> Game:
    """The real game with a card abstraction: ``bucket_tables[s][hand index] -> bucket``."""
    if len(bucket_counts) != 4 or len(bucket_tables) != 4:
        raise GameError("a Hold'em card abstraction needs bucket counts and tables for 4 streets")
    dtypes = {table.dtype for table in bucket_tables}
    if len(dtypes) != 1:
        raise GameError(f"bucket tables must share one dtype, got {sorted(map(str, dtypes))}")
    arrays, histories, num_rows = build_game_arrays(
        rules,
        street_buckets=tuple(bucket_counts),
        deal_kind=DEAL_HOLDEM,
        deck=tuple(range(NUM_CARDS)),
        cards_per_deal=2 * rules.num_players + 5,
        bucket_tables=bucket_tables,
    )
    preflop = tuple(preflop_class_name(i) for i in range(169))
    labels = tuple(
        preflop
        if s == 0 and bucket_counts[0] == 169
        else tuple(f"b{b}" for b in range(bucket_counts[s]))
        for s in range(4)
    )
    game = _game(name, arrays, histories, num_rows, labels)
    return dataclasses.replace(game, abstraction_digest=abstraction_digest)


def fixed_board_game(
    rules: NoLimitRules, board: Sequence[int], deck: Sequence[int], name: str = "holdem_fixed_board"
) -> Game:
    """Hold'em on a known ``board`` with hole cards dealt from ``deck`` (small, for exact checks)."""
    board = [int(c) for c in board]
    deck = [int(c) for c in deck]
    if len(board) != 5:
        raise GameError(f"a fixed board has 5 cards, got {len(board)}")
    if set(board) & set(deck) or len(set(deck)) != len(deck):
        raise GameError("the deck must hold distinct cards that are not on the board")
    if len(deck) < 2 * rules.num_players:
        raise GameError(f"a deck of {len(deck)} cards cannot deal {rules.num_players} players")
    card_slot = np.full(NUM_CARDS, -1, dtype=np.int64)
    card_slot[deck] = np.arange(len(deck))
    pairs = len(deck) * (len(deck) - 1) // 2
    arrays, histories, num_rows = build_game_arrays(
        rules,
        street_buckets=(pairs,) * rules.num_streets,
        deal_kind=DEAL_HOLDEM_FIXED_BOARD,
        deck=tuple(deck),
        cards_per_deal=2 * rules.num_players,
        fixed_board=board,
        card_slot=card_slot,
    )
    # A pair's bucket is the colex rank of its deck positions (kernels.deal.hole_pair_bucket):
    # pairs ordered by the higher position, then the lower.
    names = [
        format_card(deck[hi]) + format_card(deck[lo]) for hi in range(len(deck)) for lo in range(hi)
    ]
    return _game(name, arrays, histories, num_rows, (tuple(names),) * rules.num_streets)
