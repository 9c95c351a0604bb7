"""A game compiled to arrays: the one representation every kernel reads.

The tree holds only the *betting*; cards are abstracted per street into a ``bucket`` (a card
class: the private rank in Kuhn, the private and public rank in Leduc, a card-abstraction bucket
in Hold'em). A decision node's infoset row for the player to act is
``node_row_base[node] + bucket[player, node_street[node]]``. Chance is not a node: a traversal
samples the whole deal up front (see ``solver.kernels.deal``), which keeps the tree small and is
an unbiased sample of each chance node the traversal reaches.

Terminal payoffs come from the contributions and the players still in the hand at the terminal
node, plus the showdown ranks of the deal, so side pots and split pots need no per-game code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# Action kinds (node_action_kind). A bet and a raise are both RAISE: "raise to" the amount in
# node_action_amount, which is the actor's total contribution after the action.
FOLD = 0
CHECK_CALL = 1
RAISE = 2
ACTION_KIND_NAMES = ("fold", "call", "raise")

# Terminal kinds (node_terminal).
NOT_TERMINAL = 0
FOLDED = 1  # one player left: they take the pot
SHOWDOWN = 2

# Deal kinds: which card logic `solver.kernels.deal` runs for this game.
DEAL_KUHN = 0
DEAL_LEDUC = 1
DEAL_HOLDEM = 2  # 2 hole cards each + 5 board; buckets from per-street tables by hand index
DEAL_HOLDEM_FIXED_BOARD = 3  # tiny exact-checkable Hold'em: known board, lossless hole buckets


class GameArrays(NamedTuple):
    """The numeric part of a game, passed as one argument to numba kernels.

    N nodes, A = max actions at any node, P players, S streets. Fields a game does not use hold
    empty arrays, so every game has the same numba type layout.
    """

    node_player: np.ndarray  # int8[N]: player to act, -1 at a terminal
    node_street: np.ndarray  # int8[N]: betting round, 0-based
    node_num_actions: np.ndarray  # int8[N]: legal actions (0 at a terminal)
    node_children: np.ndarray  # int32[N, A]: child node per legal action, -1 past num_actions
    node_action_kind: np.ndarray  # int8[N, A]: FOLD / CHECK_CALL / RAISE, -1 past num_actions
    node_action_amount: np.ndarray  # float64[N, A]: actor's total contribution after the action
    node_row_base: np.ndarray  # int64[N]: first infoset row of a decision node, -1 at terminals
    node_terminal: np.ndarray  # int8[N]: NOT_TERMINAL / FOLDED / SHOWDOWN
    node_contrib: np.ndarray  # float64[N, P]: chips each player has put in, antes included
    node_alive: np.ndarray  # int8[N, P]: 1 while the player has not folded
    node_depth: np.ndarray  # int16[N]: actions from the root
    street_buckets: np.ndarray  # int64[S]: card classes (buckets) per street
    deal_kind: int  # DEAL_* constant
    deck: np.ndarray  # int64[C]: card codes the deal draws from, without replacement
    cards_per_deal: int  # cards one deal draws: private cards of every player, then the board
    bucket_tables: tuple[np.ndarray, ...]  # DEAL_HOLDEM: per street, hand index -> bucket
    fixed_board: np.ndarray  # int64[5]: DEAL_HOLDEM_FIXED_BOARD's board, else empty
    card_slot: np.ndarray  # int64[52]: DEAL_HOLDEM_FIXED_BOARD, card -> position in deck
    num_players: int
    max_depth: int  # longest root-to-terminal path, sizes the kernels' stacks


@dataclass(frozen=True)
class Game:
    """A compiled game: the arrays plus what humans and exporters need to read them."""

    name: str
    arrays: GameArrays
    # Per node, the action history in the game's own notation: a tuple when built, packed
    # (games.packed) when memory-mapped from the game cache.
    histories: Sequence[str]
    num_rows: int  # infoset rows in the tables
    max_actions: int
    utility_scale: float  # largest absolute payoff, to express thresholds relative to it
    bucket_labels: tuple[tuple[str, ...], ...]  # per street, a readable name for each bucket
    export_actions: tuple[str, ...]  # column names of an exported strategy row
    export_slot: np.ndarray  # int8[N, A]: export column of each legal action
    abstraction_digest: str | None = None  # the card abstraction's digest, if the game has one

    @property
    def num_nodes(self) -> int:
        return int(self.arrays.node_player.shape[0])

    @property
    def num_players(self) -> int:
        return self.arrays.num_players

    @property
    def num_streets(self) -> int:
        return int(self.arrays.street_buckets.shape[0])

    def decision_nodes(self) -> np.ndarray:
        """Indices of the nodes where a player acts."""
        return np.flatnonzero(self.arrays.node_player >= 0)

    def infoset_key(self, node: int, bucket: int) -> str:
        """The exported name of an infoset: ``"<cards>:<history>"``."""
        street = int(self.arrays.node_street[node])
        return f"{self.bucket_labels[street][bucket]}:{self.histories[node]}"

    def row_of(self, node: int, bucket: int) -> int:
        """Infoset row of ``node`` for the player to act holding card class ``bucket``."""
        base = int(self.arrays.node_row_base[node])
        if base < 0:
            raise ValueError(f"node {node} is terminal and has no infoset row")
        return base + bucket


def no_bucket_tables() -> tuple[np.ndarray, ...]:
    """The ``bucket_tables`` of a game that computes buckets without tables."""
    return tuple(np.zeros(0, dtype=np.uint8) for _ in range(4))
