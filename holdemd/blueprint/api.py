"""`Blueprint`: what a trained strategy plays, for programs.

    from holdemd import Blueprint
    bp = Blueprint.open("hunl.blueprint")            # or a run directory, or a snapshot
    s = bp.strategy("AsKs", board="AhKd7c", history="r2.5 c")
    s.probabilities, [a.token for a in s.actions]    # float64[n], ["k", "b3", "b6", "a"]
    action = s.sample(rng)                           # the caller's numpy Generator
    table = bp.strategies("r2.5 c", board="AhKd7c")  # every hole pair at once
    ranges = bp.range("r2.5 c", board="AhKd7c")      # each player's 1,326 hole-pair weights

A decision is given the way ``holdemd strategy show`` takes it (``history``, ``seat``) or as a
tree node (``decision_at``, ``strategy_at``); hands and boards as text (``AsKs``; preflop also
a class such as ``AKs``; Kuhn and Leduc ``K``). User mistakes raise `UsageError` with a
one-line message. Off-tree bet sizes in a history are translated pseudo-harmonically: with an
``rng`` one branch is drawn, without one every branch comes back (``decisions``,
``Strategy.branches``) and the more likely one leads. A Blueprint is read-only and safe to
share between threads once opened (its caches only ever add entries).
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.blueprint import reader
from holdemd.blueprint.hands import HandBucket, hand_bucket, quick_cards, quick_hand_bucket
from holdemd.blueprint.handsets import HandSet, hand_set
from holdemd.blueprint.nodes import NodeViews
from holdemd.blueprint.results import (
    Action,
    Decision,
    Ranges,
    Strategy,
    StrategyTable,
    Translated,
    sample_index,
)
from holdemd.blueprint.seats import parse_seat
from holdemd.blueprint.tree import BettingTree, Spot, street_name
from holdemd.blueprint.walk import decisions_for
from holdemd.cards import index_hands
from holdemd.errors import UsageError
from holdemd.games.compiled import DEAL_HOLDEM, Game


class Blueprint:
    """A trained strategy with its betting tree and card abstraction (see the module doc)."""

    def __init__(self, parts: reader.Parts) -> None:
        self._parts = parts
        self.config = parts.config
        self.manifest = parts.manifest
        self.source = parts.source
        self.snapshot = parts.snapshot
        self.iteration = parts.iteration
        self.bits = parts.bits  # 8 or 16 from a file; None: exact, from strategy sums
        self.max_error = parts.max_error  # largest |stored - exact| probability
        self.rules = parts.rules
        self.store = parts.store
        self.tree = BettingTree(parts.game, parts.rules)
        self.nodes = NodeViews(self.tree, parts.texts, parts.chips_per_unit)
        ready = (
            parts.game.arrays.deal_kind != DEAL_HOLDEM or parts.game.arrays.bucket_tables[3].size
        )
        self._game: Game | None = parts.game if ready else None
        self._players: dict[str, int] = {}
        self._loading = threading.Lock()

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], snapshot: str | None = None, *, verify: bool = True
    ) -> Blueprint:
        """A blueprint file (memory-mapped; ``verify``: check every section's sha256, a few
        ms), a run directory (its latest snapshot, or ``snapshot``) or a snapshot directory."""
        return cls(reader.from_path(Path(path), snapshot, verify))

    @classmethod
    def from_snapshot(cls, loaded: Any) -> Blueprint:
        """A loaded snapshot (:func:`holdemd.rundir.load.load_snapshot`)."""
        return cls(reader.from_snapshot(loaded))

    @classmethod
    def from_tables(cls, game: Game, strategy_sum: np.ndarray, **kwargs: Any) -> Blueprint:
        """Strategy sums in memory, read row by row as asked (a live training table works);
        keyword arguments as :func:`holdemd.blueprint.reader.from_tables` (config, rules,
        snapshot, iteration)."""
        return cls(reader.from_tables(game, strategy_sum, **kwargs))

    # -- what it is ------------------------------------------------------------------------

    @property
    def game(self) -> Game:
        """The compiled game; for Hold'em from a file, the card abstraction is loaded (and
        found by digest, or installed from the file) on first access."""
        if self._game is None:
            with self._loading:  # threads asking at once load it once
                if self._game is None:
                    self._game = self._load_abstraction()
        return self._game

    def _load_abstraction(self) -> Game:
        from holdemd.blueprint.abstraction import load_for_blueprint

        parts = self._parts
        entry = parts.manifest.get("abstraction") or {}
        bundle = parts.embedded_bundle() if parts.embedded_bundle else None
        assert parts.source is not None
        abstraction = load_for_blueprint(parts.source, entry, bundle)
        return reader.with_bucket_tables(parts.game, abstraction.tables)

    def preload(self) -> Blueprint:
        """Load the card abstraction now rather than at the first look-up with cards (a
        service does this at start, so no request pays for it); returns self."""
        _ = self.game
        return self

    @property
    def name(self) -> str:
        return self.tree.game.name

    @property
    def seats(self) -> tuple[str, ...]:
        return self.tree.seats

    @property
    def unit(self) -> str:
        return self.nodes.unit

    def describe(self) -> str:
        done = f" ({self.iteration:,} iterations)" if self.iteration is not None else ""
        text = f"{self.name}, snapshot {self.snapshot}{done}"
        if self.bits is not None and self.source is not None:
            text += f", blueprint {self.source.name} ({self.bits}-bit)"
        return text

    def info(self) -> dict[str, Any]:
        """What a client needs to know before asking (the HTTP service's ``/v1/info``)."""
        game = self.tree.game
        manifest = self.manifest
        return {
            "game": game.name,
            "players": game.num_players,
            "seats": list(self.seats),
            "streets": [street_name(game, s) for s in range(game.num_streets)],
            "unit": self.unit,
            "nodes": game.num_nodes,
            "rows": game.num_rows,
            "buckets": [int(b) for b in game.arrays.street_buckets],
            "snapshot": self.snapshot,
            "iteration": self.iteration,
            "source": str(self.source) if self.source else None,
            "bits": self.bits,
            "max_error": self.max_error,
            "format_version": manifest.get("format_version"),
            "created_at": manifest.get("created_at"),
            "abstraction": manifest.get("abstraction"),
            "config": (manifest.get("config") or {}).get("game"),
        }

    # -- decisions ---------------------------------------------------------------------------

    def decisions(self, history: str | None = None, seat: str | None = None) -> list[Decision]:
        """The decision ``history`` leads to (default: the first, or ``seat``'s after folds),
        one per branch of translated sizes, the most likely first; `UsageError` if there is
        none."""
        if history is not None:
            node = self.nodes.follow(history)
            player = -1 if node is None else int(self.tree.game.arrays.node_player[node])
            if node is not None and player >= 0 and (seat is None or self._player(seat) == player):
                return [self.nodes.decision(node)]
        spots = decisions_for(self.tree, history, seat)
        return sorted((self._described(spot) for spot in spots), key=lambda d: -d.weight)

    def decision(
        self,
        history: str | None = None,
        seat: str | None = None,
        rng: np.random.Generator | None = None,
    ) -> Decision:
        """One of `decisions`: drawn by weight with ``rng``, else the most likely."""
        return _pick(self.decisions(history, seat), rng)

    def decision_at(self, node: int) -> Decision:
        """The tree node ``node`` as a decision."""
        if not 0 <= node < self.tree.game.num_nodes or self.tree.game.arrays.node_player[node] < 0:
            raise UsageError(f"node {node}: not a decision node of this blueprint")
        return self.nodes.decision(node)

    def _player(self, seat: str) -> int:
        found = self._players.get(seat)
        if found is None:
            game = self.tree.game
            found = self._players[seat] = parse_seat(seat, game.name, game.num_players)
        return found

    def _described(self, spot: Spot) -> Decision:
        base = self.nodes.decision(spot.node)
        if not spot.notes and not spot.translations and spot.weight == 1.0:
            return base
        translations = tuple(
            Translated(
                typed=t.typed,
                fraction=t.fraction,
                options=tuple((act.token, act.pot_fraction or 0.0, p) for act, p in t.options),
                chosen=t.chosen.token,
            )
            for t in spot.translations
        )
        return replace(base, notes=spot.notes, translations=translations, weight=spot.weight)

    # -- one hand ----------------------------------------------------------------------------

    def hand_bucket(self, street: int, hand: str, board: str = "") -> HandBucket:
        """The bucket of ``hand`` with ``board`` on ``street``."""
        game = self.game
        return quick_hand_bucket(game, street, hand, board) or hand_bucket(
            game, street, hand, board
        )

    def strategy(
        self,
        hand: str,
        board: str = "",
        history: str | None = None,
        seat: str | None = None,
        rng: np.random.Generator | None = None,
    ) -> Strategy:
        """What the blueprint plays with ``hand`` at the decision ``history`` leads to."""
        branches = self.decisions(history, seat)
        if len(branches) == 1 or rng is not None:
            return self._strategy(_pick(branches, rng), hand, board)
        strategies = tuple(self._strategy(d, hand, board) for d in branches)
        return replace(strategies[0], branches=strategies)

    def sample(
        self,
        rng: np.random.Generator,
        hand: str,
        board: str = "",
        history: str | None = None,
        seat: str | None = None,
    ) -> tuple[Action, Strategy]:
        """An action drawn with ``rng`` (translations drawn with it too), and the strategy."""
        strategy = self.strategy(hand, board, history, seat, rng)
        return strategy.sample(rng), strategy

    def strategy_at(self, node: int, bucket: int) -> Strategy:
        """What the blueprint plays at tree ``node`` in card bucket ``bucket``."""
        decision = self.decision_at(node)
        count = int(self.tree.game.arrays.street_buckets[decision.street])
        if not 0 <= bucket < count:
            raise UsageError(f"bucket {bucket}: the {decision.street_name} has {count} buckets")
        probs, trained = self.store.row(node, bucket)
        label = self.tree.game.bucket_labels[decision.street][bucket]
        return Strategy(decision, "", "", bucket, label, f"bucket {label}", probs, trained)

    def _strategy(self, decision: Decision, hand: str, board: str) -> Strategy:
        cards = self.hand_bucket(decision.street, hand, board)
        probs, trained = self.store.row(decision.node, cards.bucket)
        return Strategy(
            decision,
            cards.hand,
            cards.board,
            cards.bucket,
            cards.label,
            cards.detail,
            probs,
            trained,
        )

    def probabilities(self, node: int, buckets: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """(float64[k, n] probabilities, bool[k] trained) of ``buckets`` at ``node``."""
        return self.store.rows(node, np.atleast_1d(np.asarray(buckets, dtype=np.int64)))

    # -- many hands --------------------------------------------------------------------------

    def hands(self, street: int, board: str = "") -> HandSet:
        """Every private hand with ``board`` on ``street`` (Hold'em: the 1,326 hole pairs)."""
        from holdemd.blueprint.boards import board_cards

        game = self.game
        return hand_set(game, board_cards(game, street, board), game.arrays.bucket_tables)

    def strategies(
        self,
        history: str | None = None,
        seat: str | None = None,
        board: str = "",
        hands: list[str] | None = None,
        rng: np.random.Generator | None = None,
    ) -> StrategyTable:
        """Every hand (default: all not blocked by the board) at one decision; buckets and
        rows for the whole batch in numba and numpy, no loop over hands in Python."""
        decision = self.decision(history, seat, rng)
        if hands is not None:
            labels, buckets, shown = self._buckets_of(decision.street, hands, board)
            probs, trained = self.store.rows(decision.node, buckets)
            return StrategyTable(decision, shown, labels, buckets, probs, trained)
        hand_set_ = self.hands(decision.street, board)
        keep = np.flatnonzero(hand_set_.combos > 0)
        buckets = hand_set_.buckets(decision.street)[keep]
        probs, trained = self.store.rows(decision.node, buckets)
        labels = tuple(hand_set_.labels[i] for i in keep)
        return StrategyTable(decision, board, labels, buckets, probs, trained)

    def _buckets_of(
        self, street: int, hands: list[str], board: str
    ) -> tuple[tuple[str, ...], np.ndarray, str]:
        """(hands as shown, int64 buckets, board as shown) of a list of hands: Hold'em cards
        written plainly are indexed in one numba call, anything else hand by hand (which
        also explains a mistake)."""
        game = self.game
        plain = quick_cards(game, street, hands, board)
        if plain is None:
            found = [self.hand_bucket(street, hand, board) for hand in hands]
            shown = found[0].board if found else board
            buckets = np.array([f.bucket for f in found], dtype=np.int64)
            return tuple(f.hand for f in found), buckets, shown
        table = game.arrays.bucket_tables[street]
        buckets = np.asarray(table[index_hands(street, plain)], dtype=np.int64)
        return tuple(hands), buckets, board

    def range(
        self,
        history: str | None = None,
        seat: str | None = None,
        board: str = "",
        rng: np.random.Generator | None = None,
    ) -> Ranges:
        """Each player's range at the decision: the probability, for every hand, that the
        blueprint takes the history's actions with it (Bayes with a uniform prior over the
        hands the board leaves)."""
        from holdemd.blueprint.ranges import reach_along

        decision = self.decision(history, seat, rng)
        hand_set_ = self.hands(decision.street, board)
        reach = reach_along(self, decision.node, hand_set_)
        return Ranges(decision, board, hand_set_.labels, hand_set_.combos, reach, hand_set_)

    def policy(self) -> np.ndarray:
        """float64[rows, max_actions]: every row's probabilities, as the exact evaluator and
        ``strategy export`` take them (small games; a Hold'em table is large)."""
        return self.store.policy(self.tree.game)


def _pick(decisions: list[Decision], rng: np.random.Generator | None) -> Decision:
    if len(decisions) == 1 or rng is None:
        return decisions[0]
    return decisions[sample_index(np.array([d.weight for d in decisions]), rng)]
