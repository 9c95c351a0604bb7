"""Exact evaluation of small games: game value, best response, exploitability.

Every deal is enumerated (Kuhn 6, Leduc 120), and the betting tree is walked once with arrays
over deals, so a whole evaluation is a few dozen numpy operations per node. Card logic comes
from the same ``deal_outcome`` kernel the sampler uses, so the evaluator checks the code that
trains. Definitions follow OpenSpiel: exploitability = (BR value of player 0 + BR value of
player 1) / 2 in chips per game = NashConv / 2 for two-player zero-sum games.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from holdemd.errors import UsageError
from holdemd.games.compiled import Game
from holdemd.solver.kernels.deal import deal_outcome
from holdemd.solver.kernels.payoff import terminal_payoffs

MAX_EXACT_DEALS = 100_000  # deals are listed in a Python loop; fixed-board Hold'em has 1,680


@dataclass(frozen=True)
class DealTable:
    """All deals of a game, equally likely."""

    buckets: np.ndarray  # int64[D, P, S]
    utilities: dict[int, np.ndarray]  # terminal node -> float64[D, P]

    @property
    def num_deals(self) -> int:
        return int(self.buckets.shape[0])


def num_deals(game: Game) -> int:
    return math.perm(len(game.arrays.deck), game.arrays.cards_per_deal)


def can_enumerate(game: Game) -> bool:
    """Whether exact evaluation is affordable: every deal can be listed."""
    return num_deals(game) <= MAX_EXACT_DEALS


def enumerate_deals(game: Game) -> DealTable:
    """Every ordered draw of ``cards_per_deal`` cards, with buckets and terminal payoffs."""
    a = game.arrays
    count = num_deals(game)
    if count > MAX_EXACT_DEALS:
        raise UsageError(
            f"game '{game.name}' has {count:,} deals, too many to evaluate exactly (at most "
            f"{MAX_EXACT_DEALS:,}); `holdemd eval` works on kuhn, leduc and holdem_fixed_board "
            "runs (head-to-head evaluation of Hold'em is not built yet)"
        )
    num_players, num_streets = a.num_players, game.num_streets
    buckets = np.zeros((count, num_players, num_streets), dtype=np.int64)
    ranks = np.zeros((count, num_players), dtype=np.int64)
    for d, cards in enumerate(itertools.permutations(a.deck.tolist(), a.cards_per_deal)):
        deal_outcome(a, np.array(cards, dtype=np.int64), buckets[d], ranks[d])
    terminals = np.flatnonzero(a.node_player < 0).astype(np.int64)
    table = np.empty((terminals.shape[0], count, num_players))
    terminal_payoffs(a.node_contrib, a.node_alive, terminals, ranks, table)
    utilities = {int(node): table[t] for t, node in enumerate(terminals)}
    return DealTable(buckets=buckets, utilities=utilities)


class ExactEvaluator:
    """Exact values of strategy profiles in a small game.

    A *policy* is float64[rows, A]: per infoset row, the probability of each legal action.
    """

    def __init__(self, game: Game, deals: DealTable | None = None) -> None:
        self.game = game
        self.deals = deals if deals is not None else enumerate_deals(game)

    def _rows(self, node: int) -> np.ndarray:
        a = self.game.arrays
        player, street = int(a.node_player[node]), int(a.node_street[node])
        return a.node_row_base[node] + self.deals.buckets[:, player, street]

    def expected_values(self, policy: np.ndarray) -> np.ndarray:
        """float64[P]: each player's expected payoff when everyone follows ``policy``."""

        def walk(node: int) -> np.ndarray:  # float64[D, P]
            a = self.game.arrays
            if a.node_player[node] < 0:
                return self.deals.utilities[node]
            probs = policy[self._rows(node)]
            total = np.zeros((self.deals.num_deals, a.num_players))
            for i in range(int(a.node_num_actions[node])):
                total += probs[:, i, None] * walk(int(a.node_children[node, i]))
            return total

        return walk(0).mean(axis=0)

    def game_value(self, policy: np.ndarray) -> float:
        """Player 0's expected payoff under ``policy``."""
        return float(self.expected_values(policy)[0])

    def best_response_value(self, policy: np.ndarray, player: int) -> float:
        """Expected payoff of a best response for ``player`` to the others playing ``policy``."""
        a = self.game.arrays

        def walk(node: int, reach: np.ndarray) -> np.ndarray:
            # reach[d]: probability that the others (not chance) play to this node in deal d.
            # Returns reach-weighted payoffs for `player` per deal under the best response.
            if a.node_player[node] < 0:
                return reach * self.deals.utilities[node][:, player]
            rows = self._rows(node)
            n = int(a.node_num_actions[node])
            children = [int(a.node_children[node, i]) for i in range(n)]
            if a.node_player[node] != player:
                probs = policy[rows]
                return sum(
                    (walk(c, reach * probs[:, i]) for i, c in enumerate(children)),
                    start=np.zeros_like(reach),
                )
            values = np.stack([walk(c, reach) for c in children], axis=1)  # [D, n]
            # All deals sharing a row form one infoset: choose the action best on their sum.
            unique_rows, inverse = np.unique(rows, return_inverse=True)
            totals = np.zeros((unique_rows.shape[0], n))
            np.add.at(totals, inverse, values)
            best = totals.argmax(axis=1)[inverse]
            return values[np.arange(values.shape[0]), best]

        ones = np.ones(self.deals.num_deals)
        return float(walk(0, ones).mean())

    def nash_conv(self, policy: np.ndarray) -> float:
        """Sum over players of (best-response value - value under ``policy``)."""
        values = self.expected_values(policy)
        return float(
            sum(
                self.best_response_value(policy, p) - values[p]
                for p in range(self.game.num_players)
            )
        )

    def exploitability(self, policy: np.ndarray) -> float:
        """NashConv / number of players; for two players, (BR0 + BR1) / 2."""
        return self.nash_conv(policy) / self.game.num_players
