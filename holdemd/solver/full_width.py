"""Full-width CFR+ on small games, vectorized over all deals.

This is the exact oracle the tests check MCCFR against: no sampling, so its average strategy
converges deterministically to an equilibrium whose value must match game theory (Kuhn −1/18,
Leduc −0.0856064). CFR+ (Tammelin 2014): regrets floored at zero, alternating updates, linear
averaging.
"""

from __future__ import annotations

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.exact import DealTable, ExactEvaluator, enumerate_deals
from holdemd.solver.tables import average_strategy, current_strategy


class CFRPlusSolver:
    def __init__(self, game: Game, deals: DealTable | None = None) -> None:
        self.game = game
        self.deals = deals if deals is not None else enumerate_deals(game)
        self.evaluator = ExactEvaluator(game, self.deals)
        shape = (game.num_rows, game.max_actions)
        self.regret = np.zeros(shape)
        self.strategy_sum = np.zeros(shape)
        self.iterations = 0

    def _rows(self, node: int) -> np.ndarray:
        a = self.game.arrays
        player, street = int(a.node_player[node]), int(a.node_street[node])
        return a.node_row_base[node] + self.deals.buckets[:, player, street]

    def iterate(self, count: int = 1) -> None:
        for _ in range(count):
            for player in range(self.game.num_players):
                self._update(player)
            self.iterations += 1

    def _update(self, player: int) -> None:
        a = self.game.arrays
        policy = current_strategy(self.game, self.regret)
        weight = float(self.iterations + 1)
        regret_delta = np.zeros_like(self.regret)

        def walk(node: int, reach: np.ndarray) -> np.ndarray:
            # reach: float64[P, D]; returns float64[D], `player`'s expected payoff per deal.
            if a.node_player[node] < 0:
                return self.deals.utilities[node][:, player]
            actor = int(a.node_player[node])
            rows = self._rows(node)
            probs = policy[rows]
            n = int(a.node_num_actions[node])
            child_values = np.empty((rows.shape[0], n))
            for i in range(n):
                child_reach = reach.copy()
                child_reach[actor] *= probs[:, i]
                child_values[:, i] = walk(int(a.node_children[node, i]), child_reach)
            value = (probs[:, :n] * child_values).sum(axis=1)
            if actor == player:
                others = np.prod(np.delete(reach, player, axis=0), axis=0)
                np.add.at(
                    regret_delta[:, :n], rows, others[:, None] * (child_values - value[:, None])
                )
            else:
                # The average strategy of the others is weighted by their own reach.
                np.add.at(
                    self.strategy_sum[:, :n], rows, weight * reach[actor][:, None] * probs[:, :n]
                )
            return value

        walk(0, np.ones((self.game.num_players, self.deals.num_deals)))
        self.regret = np.maximum(self.regret + regret_delta, 0.0)

    def average_policy(self) -> np.ndarray:
        return average_strategy(self.game, self.strategy_sum)
