"""What a blueprint look-up returns: plain frozen dataclasses with a JSON form
(``as_dict``), the same for the library, the HTTP service and the control socket.

Amounts are in the game's unit (``unit``: big blinds in Hold'em, chips in Kuhn and Leduc).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from holdemd.blueprint.handsets import HandSet


@dataclass(frozen=True)
class Action:
    """One legal action at a decision, in table-column order."""

    index: int  # column in the strategy row
    kind: str  # "fold", "call" (check or call) or "raise" (bet or raise)
    token: str  # how --history writes it: "f", "k", "c", "r3", "b0.5p" never, "a"
    label: str  # how people say it: "fold", "call 0.5 bb", "raise to 3 bb", "all-in 100 bb"
    amount_bb: float | None  # the actor's total on this street after it (raise *to*); fold: None
    pot_fraction: float | None  # bets and raises: the increment over the pot after calling
    child: int  # the tree node it leads to

    def as_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "label": self.label,
            "kind": self.kind,
            "amount_bb": self.amount_bb,
            "pot_fraction": self.pot_fraction,
        }


@dataclass(frozen=True)
class Translated:
    """An off-tree size in the history and the tree sizes it was translated to."""

    typed: str  # the token as written
    fraction: float  # its pot fraction
    options: tuple[tuple[str, float, float], ...]  # (tree token, pot fraction, probability)
    chosen: str  # the tree token this decision's branch took

    def as_dict(self) -> dict[str, Any]:
        return {
            "typed": self.typed,
            "pot_fraction": self.fraction,
            "options": [
                {"token": token, "pot_fraction": fraction, "probability": p}
                for token, fraction, p in self.options
            ],
            "chosen": self.chosen,
        }


@dataclass(frozen=True)
class Decision:
    """A decision node reached by a history, described for people and programs."""

    node: int
    player: int
    seat: str
    street: int
    street_name: str
    history: str  # canonical --history leading here
    tree_history: str  # the tree's own notation (the keys of `strategy export`)
    unit: str  # "bb" or "chips"
    pot: float
    to_call: float
    facing_bet: bool  # a bet or raise was made on this street (preflop: the blinds count)
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()  # off-tree sizes and what they were translated to
    translations: tuple[Translated, ...] = ()
    weight: float = 1.0  # probability of this branch of the translations (1 without any)

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "player": self.player,
            "seat": self.seat,
            "street": self.street_name,
            "history": self.history,
            "tree_history": self.tree_history,
            "unit": self.unit,
            "pot": self.pot,
            "to_call": self.to_call,
            "notes": list(self.notes),
            "translations": [t.as_dict() for t in self.translations],
            "weight": self.weight,
        }


@dataclass(frozen=True)
class Strategy:
    """What the blueprint plays with one hand at one decision.

    ``branches`` is empty unless an off-tree size in the history was translated to two tree
    sizes without a random generator: it then holds every branch (this one included, first the
    most likely), each with its ``decision.weight``.
    """

    decision: Decision
    hand: str  # canonical text ("AsKs"; preflop a class such as "AKs" stays a class)
    board: str
    bucket: int
    bucket_label: str
    detail: str  # what the bucket is, in words
    probabilities: np.ndarray  # float64[len(actions)]
    trained: bool  # False: the row was never updated in training and is uniform
    branches: tuple[Strategy, ...] = ()

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.decision.actions

    def probability(self, token: str) -> float:
        """The probability of the action written ``token``."""
        for act, p in zip(self.actions, self.probabilities, strict=True):
            if act.token == token:
                return float(p)
        raise KeyError(f"no action {token!r} here; actions: {[a.token for a in self.actions]}")

    def sample(self, rng: np.random.Generator) -> Action:
        """One action drawn with the caller's generator (one ``rng.random()`` draw)."""
        return self.actions[sample_index(self.probabilities, rng)]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "actions": [
                {**act.as_dict(), "probability": float(p)}
                for act, p in zip(self.actions, self.probabilities, strict=True)
            ],
            "bucket": self.bucket,
            "bucket_label": self.bucket_label,
            "hand": self.hand,
            "board": self.board,
            "trained": self.trained,
            "notes": list(self.decision.notes),
            "decision": self.decision.as_dict(),
        }
        if self.branches:
            out["branches"] = [
                {"weight": b.decision.weight, "history": b.decision.history, **_short(b)}
                for b in self.branches
            ]
        return out


def _short(strategy: Strategy) -> dict[str, Any]:
    return {
        "actions": [
            {**act.as_dict(), "probability": float(p)}
            for act, p in zip(strategy.actions, strategy.probabilities, strict=True)
        ]
    }


def sample_index(probabilities: np.ndarray, rng: np.random.Generator) -> int:
    """Index drawn from ``probabilities`` with one ``rng.random()``."""
    u = float(rng.random())
    last = 0
    for i, p in enumerate(probabilities):
        if p <= 0.0:
            continue
        last = i
        u -= float(p)
        if u < 0.0:
            return i
    return last


@dataclass(frozen=True)
class StrategyTable:
    """Many hands at one decision (a batch look-up): ``probabilities[k]`` is what hand
    ``hands[k]`` plays."""

    decision: Decision
    board: str
    hands: tuple[str, ...]
    buckets: np.ndarray  # int64[k]
    probabilities: np.ndarray  # float64[k, len(actions)]
    trained: np.ndarray  # bool[k]

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.decision.actions


@dataclass(frozen=True)
class Ranges:
    """Every player's range at a decision, by Bayes from the blueprint's own actions.

    ``reach[p, h]`` is the probability that player ``p`` holding hand ``h`` takes the actions of
    the history (1 for a player who has not acted); ``combos[h]`` counts the hand's card
    combinations left by the board (Hold'em: 1 or 0 per hole pair; Leduc: 2 per rank, 1 for
    the rank of the public card). ``weights`` = combos x reach: the range, unnormalized.
    """

    decision: Decision
    board: str
    hands: tuple[str, ...]
    combos: np.ndarray  # float64[H]
    reach: np.ndarray  # float64[P, H]
    hand_set: HandSet

    @property
    def weights(self) -> np.ndarray:
        """float64[P, H]: each player's range (combos x reach)."""
        return self.reach * self.combos[None, :]

    def normalized(self, player: int) -> np.ndarray:
        """float64[H]: player's range as probabilities summing to one (its own actions only)."""
        weights = self.weights[player]
        total = weights.sum()
        return weights / total if total > 0 else weights

    def posterior(self, player: int) -> np.ndarray:
        """float64[H]: heads-up, the probability that ``player`` holds each hand given the
        whole history: its own range, times the other player's range weight of the hands
        that can be held beside it (card removal), normalized."""
        from holdemd.blueprint.handsets import posterior_weights

        if self.reach.shape[0] != 2:
            raise ValueError("the posterior with card removal is computed heads-up only")
        weights = self.weights
        return posterior_weights(self.hand_set, weights[player], weights[1 - player])
