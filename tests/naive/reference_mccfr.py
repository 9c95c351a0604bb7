"""Slow pure-Python external-sampling MCCFR, the reference the numba kernel is checked against.

Independent of the kernel in everything but the random stream: it draws from the same
SplitMix64 generator in the same order (cards first, then one draw per opponent decision), so
on the same seed both must produce the same tables. Tables are dicts keyed by (node, bucket).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.kernels.rng import below, uniform


def deal(game: Game, deck: list[int], rng: np.ndarray) -> list[int]:
    """Partial Fisher-Yates over a persistent deck, as the kernel does."""
    k = game.arrays.cards_per_deal
    for i in range(k):
        j = i + int(below(rng, len(deck) - i))
        deck[i], deck[j] = deck[j], deck[i]
    return deck[:k]


def card_classes(game: Game, cards: list[int]) -> tuple[list[list[int]], list[int]]:
    """Buckets per player and street, and showdown ranks, from the rules as written."""
    if game.name == "kuhn":
        return [[c] for c in cards], list(cards)
    assert game.name == "leduc"
    public = cards[2] // 2
    privates = [c // 2 for c in cards[:2]]
    buckets = [[r, 3 * r + public] for r in privates]
    ranks = [10 + r if r == public else r for r in privates]
    return buckets, ranks


def two_player_payoff(contrib: list[float], alive: list[int], ranks: list[int], p: int) -> float:
    other = 1 - p
    if not alive[p]:
        return -contrib[p]
    if not alive[other]:
        return contrib[other]
    if ranks[p] == ranks[other]:
        return 0.0
    return contrib[other] if ranks[p] > ranks[other] else -contrib[p]


def regret_matching(regrets: list[float]) -> list[float]:
    positive = [max(r, 0.0) for r in regrets]
    total = sum(positive)
    if total > 0:
        inv = 1.0 / total
        return [r * inv for r in positive]
    return [1.0 / len(regrets)] * len(regrets)


class ReferenceMCCFR:
    def __init__(self, game: Game, rng: np.ndarray) -> None:
        self.game = game
        self.rng = rng
        self.deck = [int(c) for c in game.arrays.deck]
        n = game.max_actions
        self.regret: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0] * n)
        self.strategy_sum: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0] * n)

    def iterate(self, count: int, linear: bool = False, first: int = 0) -> None:
        for i in range(count):
            weight = float(first + i + 1) if linear else 1.0
            for traverser in range(self.game.num_players):
                cards = deal(self.game, self.deck, self.rng)
                buckets, ranks = card_classes(self.game, cards)
                self._walk(0, traverser, buckets, ranks, weight)

    def _walk(self, node: int, traverser: int, buckets, ranks, weight: float) -> float:
        a = self.game.arrays
        player = int(a.node_player[node])
        if player < 0:
            contrib = [float(x) for x in a.node_contrib[node]]
            alive = [int(x) for x in a.node_alive[node]]
            return two_player_payoff(contrib, alive, ranks, traverser)
        key = (node, buckets[player][int(a.node_street[node])])
        n = int(a.node_num_actions[node])
        strategy = regret_matching(self.regret[key][:n])
        children = [int(a.node_children[node, i]) for i in range(n)]
        if player == traverser:
            values = [self._walk(c, traverser, buckets, ranks, weight) for c in children]
            value = sum(s * v for s, v in zip(strategy, values, strict=True))
            for i in range(n):
                self.regret[key][i] += weight * (values[i] - value)
            return value
        for i in range(n):
            self.strategy_sum[key][i] += weight * strategy[i]
        r = float(uniform(self.rng))
        chosen, cumulative = n - 1, 0.0
        for i in range(n - 1):
            cumulative += strategy[i]
            if r < cumulative:
                chosen = i
                break
        return self._walk(children[chosen], traverser, buckets, ranks, weight)

    def as_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """The dict tables laid out as the kernel's [rows, A] arrays."""
        g = self.game
        regret = np.zeros((g.num_rows, g.max_actions))
        strategy_sum = np.zeros((g.num_rows, g.max_actions))
        for (node, bucket), values in self.regret.items():
            regret[g.row_of(node, bucket)] = values
        for (node, bucket), values in self.strategy_sum.items():
            strategy_sum[g.row_of(node, bucket)] = values
        return regret, strategy_sum
