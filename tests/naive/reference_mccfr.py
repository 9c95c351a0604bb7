"""Slow pure-Python external-sampling MCCFR, the reference the numba kernel is checked against.

Written from the algorithm's definition, not from the kernel's code: a recursive walk over
dict tables keyed by (node, bucket). What it does:

* External sampling: one traversal per player per iteration, each on its own deal. The
  traverser explores every action and adds w * (v(a) - v) to their regrets; another player
  samples one action from their current strategy (regret matching) and adds w times that
  strategy to their strategy sum. w = 1, or the 1-based iteration number for linear CFR.
* Negative-regret pruning (Pluribus): an iteration prunes with probability p. Then, at the
  traverser's nodes not on the last street, it skips every action whose regret is below the
  threshold and whose child is not terminal, unless that is every action of the node; a
  skipped action is neither explored nor updated, and the node's value is the strategy's
  average over the explored actions. An iteration that could prune but does not explores
  everything, and gives every update a pruning iteration would not have made (the regret of an
  action it would skip, and everything below such an action) the weight 1 / (1 - p). One coin
  decides the whole iteration, so that update is made on a 1 - p share of iterations and its
  expectation is the unpruned update: the weight is 1 / (1 - p) however many skippable actions
  lie on the path. That holds where skipped actions have probability zero (their row has a
  positive regret); with every regret of a row negative the strategy is uniform, and a pruning
  iteration's renormalized value is not the full one.
* First-round averaging: strategy sums only at nodes of streets below ``average_streets``.
* Integer regrets: changes in quanta (2**16 per utility scale), stochastically rounded,
  saturating at the int32 range (``reference_integer``).

The random stream is the one thing shared with the kernel, so that on the same seed both must
produce the same tables. Draws, in order: per iteration, the pruning coin (only when p > 0);
then per traverser the deal (``reference_cards.deal``), then during the walk one draw per
opponent decision (the sampled action is the first whose cumulative probability exceeds it)
and, with integer regrets, one per regret update when a node makes its updates (after its
children, actions in order).

``ExpectedUpdates`` replaces the sampling by enumeration (every deal, every opponent action,
weighted by probability), which gives the exact expected update of one traversal.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.kernels.rng import uniform
from tests.naive.reference_cards import CardClasses, classes_for, deal
from tests.naive.reference_integer import QUANTA_PER_UTILITY_SCALE, rounded_add


@dataclass(frozen=True)
class Settings:
    linear: bool = False
    prune_probability: float = 0.0
    prune_threshold: float = 0.0  # in regret-table units
    average_streets: int = 127  # strategy sums only on streets below this


def two_player_payoff(contrib: list[float], alive: list[int], ranks: list[Any], p: int) -> float:
    other = 1 - p
    if not alive[p]:
        return -contrib[p]
    if not alive[other]:
        return contrib[other]
    at_stake = min(contrib)  # an uncalled excess goes back to its owner
    if ranks[p] == ranks[other]:
        return 0.0
    return at_stake if ranks[p] > ranks[other] else -at_stake


def regret_matching(regrets: list[float]) -> list[float]:
    positive = [max(float(r), 0.0) for r in regrets]
    total = sum(positive)
    if total > 0:
        inv = 1.0 / total
        return [r * inv for r in positive]
    return [1.0 / len(regrets)] * len(regrets)


class Rows(dict):
    """(node, bucket) -> list of the row's values, starting from ``initial`` or zeros."""

    def __init__(self, game: Game, initial: np.ndarray | None, integer: bool = False) -> None:
        super().__init__()
        self.game = game
        self.initial = initial
        self.convert = int if integer else float

    def __missing__(self, key: tuple[int, int]) -> list[Any]:
        if self.initial is None:
            row = [self.convert(0)] * self.game.max_actions
        else:
            values = self.initial[self.game.row_of(*key)].tolist()
            row = [self.convert(x) for x in values]
        self[key] = row
        return row

    def as_array(self) -> np.ndarray:
        """[rows, A] like the kernel's table (int64 for integer rows)."""
        shape = (self.game.num_rows, self.game.max_actions)
        dtype = np.int64 if self.convert is int else np.float64
        out = np.zeros(shape, dtype) if self.initial is None else self.initial.astype(dtype)
        for (node, bucket), values in self.items():
            out[self.game.row_of(node, bucket)] = values
        return out


class ReferenceMCCFR:
    """External-sampling MCCFR on ``game``, tables updated in place.

    ``regret`` and ``strategy_sum`` are optional starting tables ([rows, A] arrays, left
    untouched); an integer ``regret`` array makes the regrets integer quanta.
    """

    def __init__(
        self,
        game: Game,
        rng: np.ndarray,
        settings: Settings | None = None,
        *,
        classes: CardClasses | None = None,
        regret: np.ndarray | None = None,
        strategy_sum: np.ndarray | None = None,
        integer: bool = False,
    ) -> None:
        assert game.num_players == 2, "the reference payoff is heads-up"
        self.game = game
        self.rng = rng
        self.settings = settings or Settings()
        self.classes = classes or classes_for(game)
        self.deck = [int(c) for c in game.arrays.deck]
        self.integer = integer or (regret is not None and np.issubdtype(regret.dtype, np.integer))
        self.regret = Rows(game, regret, self.integer)
        self.strategy_sum = Rows(game, strategy_sum)
        self.unit = QUANTA_PER_UTILITY_SCALE / game.utility_scale if self.integer else 1.0
        self.iteration = 0
        self.pruned = 0  # actions skipped by pruning
        self.prunable = 0  # actions at nodes where pruning iterations looked for some to skip
        self.saturated = 0  # integer updates the int32 range cut short
        self.nested = 0  # skippable actions probed below another skippable action
        self.renormalized = 0  # node values over explored actions the strategy may not play
        self.kept_all = 0  # nodes that skipped nothing because every action was skippable
        # Set per iteration.
        self.weight = 1.0
        self.prune = False
        self.probe = 1.0

    # -- iterations ---------------------------------------------------------------------------

    def iterate(self, count: int) -> None:
        s = self.settings
        for _ in range(count):
            self.weight = float(self.iteration + 1) if s.linear else 1.0
            self.prune = False
            self.probe = 1.0
            if s.prune_probability > 0.0:
                self.prune = float(uniform(self.rng)) < s.prune_probability
                if not self.prune and s.prune_probability < 1.0:
                    self.probe = 1.0 / (1.0 - s.prune_probability)
            for traverser in range(self.game.num_players):
                cards = deal(self.deck, self.game.arrays.cards_per_deal, self.rng)
                buckets, ranks = self.classes(cards)
                self._walk(0, traverser, buckets, ranks, 1.0, 1.0)
            self.iteration += 1

    def as_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """The dict tables laid out as the kernel's [rows, A] arrays."""
        return self.regret.as_array(), self.strategy_sum.as_array()

    # -- the walk -----------------------------------------------------------------------------

    def _walk(self, node: int, traverser: int, buckets, ranks, reach: float, mult: float) -> float:
        """Sampled value of ``node`` for ``traverser``.

        ``reach`` is the probability of this path (1 when sampling); ``mult`` the weight of
        the updates on it (above 1 only on paths a pruning iteration would not take).
        """
        a = self.game.arrays
        player = int(a.node_player[node])
        if player < 0:
            contrib = [float(x) for x in a.node_contrib[node]]
            alive = [int(x) for x in a.node_alive[node]]
            return two_player_payoff(contrib, alive, ranks, traverser)
        street = int(a.node_street[node])
        key = (node, buckets[player][street])
        n = int(a.node_num_actions[node])
        children = [int(a.node_children[node, i]) for i in range(n)]
        strategy = regret_matching(self.regret[key][:n])
        if player != traverser:
            if street < self.settings.average_streets:
                for i in range(n):
                    self._add_strategy(key, i, self.weight * mult * strategy[i] * reach)
            return self._opponent(children, strategy, traverser, buckets, ranks, reach, mult)
        skippable = self._skippable(key, street, children)
        explored = [i for i in range(n) if not (self.prune and i in skippable)]
        mults = [self._mult_below(mult, i in skippable) for i in range(n)]
        values = {
            i: self._walk(children[i], traverser, buckets, ranks, reach, mults[i]) for i in explored
        }
        value = 0.0
        for i in explored:
            value += strategy[i] * values[i]
        if len(explored) < n:
            mass = sum(strategy[i] for i in explored)
            self.renormalized += any(strategy[i] > 0.0 for i in skippable)
            if mass > 0.0:
                value /= mass
        for i in explored:
            change = self.weight * self.unit * mults[i] * (values[i] - value) * reach
            self._add_regret(key, i, change)
        return value

    def _skippable(self, key: tuple[int, int], street: int, children: list[int]) -> set[int]:
        """Actions a pruning iteration skips here (empty if this iteration cannot prune)."""
        if not (self.prune or self.probe != 1.0) or street == self.game.num_streets - 1:
            return set()
        regrets = self.regret[key]
        node_player = self.game.arrays.node_player
        skip = {
            i
            for i, child in enumerate(children)
            if node_player[child] >= 0 and float(regrets[i]) < self.settings.prune_threshold
        }
        if len(skip) == len(children):
            skip = set()  # a node always keeps something to play
            self.kept_all += 1
        if self.prune:
            self.prunable += len(children)
            self.pruned += len(skip)
        return skip

    def _mult_below(self, mult: float, skippable: bool) -> float:
        """The weight of updates at and below an action, given the weight at its node."""
        if self.probe == 1.0:
            return mult
        self.nested += skippable and mult != 1.0
        return self.probe if (skippable or mult != 1.0) else 1.0

    def _opponent(self, children, strategy, traverser, buckets, ranks, reach, mult) -> float:
        r = float(uniform(self.rng))
        chosen, cumulative = len(children) - 1, 0.0
        for i in range(len(children) - 1):
            cumulative += strategy[i]
            if r < cumulative:
                chosen = i
                break
        return self._walk(children[chosen], traverser, buckets, ranks, reach, mult)

    def _add_strategy(self, key: tuple[int, int], action: int, amount: float) -> None:
        self.strategy_sum[key][action] += amount

    def _add_regret(self, key: tuple[int, int], action: int, change: float) -> None:
        row = self.regret[key]
        if self.integer:
            u = float(uniform(self.rng))
            unbounded = row[action] + math.floor(change + u)
            row[action] = rounded_add(row[action], change, u)
            self.saturated += row[action] != unbounded
        else:
            row[action] += change


class ExpectedUpdates(ReferenceMCCFR):
    """The exact expectation of one traversal's updates, over every deal and opponent action.

    The tables are read, never written: ``regret_change`` and ``strategy_change`` collect the
    probability-weighted updates. Float regrets only.
    """

    def __init__(self, game: Game, regret: np.ndarray, settings: Settings) -> None:
        super().__init__(game, np.zeros(1, dtype=np.uint64), settings, regret=regret)
        self.regret_change = Rows(game, None)
        self.strategy_change = Rows(game, None)

    def traversal(self, traverser: int, prune: bool, probe: float) -> None:
        """Add the expected updates of a traversal for ``traverser`` in an iteration that
        prunes or not, with probe weight ``probe``."""
        self.prune, self.probe = prune, probe
        deck = [int(c) for c in self.game.arrays.deck]
        deals = list(itertools.permutations(deck, self.game.arrays.cards_per_deal))
        for cards in deals:
            buckets, ranks = self.classes(cards)
            self._walk(0, traverser, buckets, ranks, 1.0 / len(deals), 1.0)

    def _opponent(self, children, strategy, traverser, buckets, ranks, reach, mult) -> float:
        value = 0.0
        for child, probability in zip(children, strategy, strict=True):
            if probability > 0.0:
                child_value = self._walk(
                    child, traverser, buckets, ranks, reach * probability, mult
                )
                value += probability * child_value
        return value

    def _add_strategy(self, key: tuple[int, int], action: int, amount: float) -> None:
        self.strategy_change[key][action] += amount

    def _add_regret(self, key: tuple[int, int], action: int, change: float) -> None:
        self.regret_change[key][action] += change
