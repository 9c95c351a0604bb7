"""Litmus scenarios: what a file says, checked when it is read.

A scenarios file (YAML; the shipped one is ``default.yaml`` beside this module)::

    replace_default: false      # true: these scenarios instead of the shipped ones
    scenarios:
      - name: aces-first-in     # letters, digits, - _ . ; a name of the shipped file replaces it
        games: [holdem]         # holdem (any table), heads_up, multiway (3-6), 6max, kuhn, leduc
        seat: null              # optional: BTN, BB, UTG, ...; without history, X's first decision
        history: null           # optional: the actions before it, as `strategy show --history`
        board: ""               # optional: the board at the decision
        hands: [AA, KK]         # each must meet the expectation
        expect: {action: fold, at_most: 0.05}   # action(s): fold, call, raise, allin
        equity: null            # optional: the hands' equity; skipped where the price is higher
        diagnosis: "..."        # printed when it fails; {hand} {probability} {price} ... filled in

Every mistake is a `ConfigError` of one line naming the file and the key
(``scenarios[2].expect.at_most``). Cards and histories are checked for their syntax here; whether
a history is on a game's tree is known only against the tree (`check` skips it there, saying
why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_FILE = "default.yaml"

# What a scenario's `games` may name: each is a test on (game name, players).
HOLDEM_GAMES = {
    "holdem": "Hold'em (any table)",
    "heads_up": "heads-up Hold'em",
    "multiway": "Hold'em with 3 to 6 players",
    "6max": "6-max Hold'em",
}
SMALL_GAMES = {"kuhn": "Kuhn poker", "leduc": "Leduc poker"}
GAMES = {**HOLDEM_GAMES, **SMALL_GAMES}

# The action families an expectation sums over (a Kuhn pass facing a bet is a fold).
ACTIONS = ("fold", "call", "raise", "allin")
ACTION_WORDS = {
    "fold": "fold",
    "call": "check or call",
    "raise": "bet or raise",
    "allin": "go all-in",
}

HOLDEM_SEATS = frozenset({"BTN", "SB", "BB", "UTG", "HJ", "CO"})
DIAGNOSIS_FIELDS = (
    "name",
    "hand",
    "probability",
    "action",
    "limit",
    "seat",
    "history",
    "board",
    "pot",
    "to_call",
    "price",
    "equity",
    "unit",
)
SCENARIO_KEYS = (
    "name",
    "games",
    "seat",
    "history",
    "board",
    "hands",
    "expect",
    "equity",
    "diagnosis",
)
REQUIRED_KEYS = ("name", "games", "hands", "expect", "diagnosis")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Expectation:
    """The probability of ``actions`` (summed) is at most / at least a bound."""

    actions: tuple[str, ...]
    at_most: float | None = None
    at_least: float | None = None

    def holds(self, probability: float) -> bool:
        if self.at_most is not None and probability > self.at_most + 1e-9:
            return False
        return not (self.at_least is not None and probability < self.at_least - 1e-9)

    @property
    def action(self) -> str:
        return " or ".join(self.actions)

    @property
    def limit(self) -> float:
        bound = self.at_most if self.at_most is not None else self.at_least
        assert bound is not None
        return bound

    def describe(self) -> str:
        """``P(fold) <= 5%``."""
        sign = "<=" if self.at_most is not None else ">="
        return f"P({self.action}) {sign} {percent(self.limit)}"


@dataclass(frozen=True)
class Scenario:
    name: str
    games: tuple[str, ...]
    hands: tuple[str, ...]
    expect: Expectation
    diagnosis: str
    seat: str | None = None
    history: str | None = None
    board: str = ""
    equity: float | None = None
    source: str = ""  # the file it was read from

    def applies_to(self, game_name: str, players: int) -> bool:
        return any(_selects(selector, game_name, players) for selector in self.games)

    def games_text(self) -> str:
        return " or ".join(GAMES[g] for g in self.games)

    def decision_text(self) -> str:
        """``BB after 'a'``, ``first decision`` ..."""
        where = self.seat or ""
        if self.history:
            where = f"{where} after '{self.history}'".strip()
        elif self.seat:
            where = f"{self.seat} first in"
        else:
            where = "first to act"
        return f"{where} on {self.board}" if self.board else where


def _selects(selector: str, game_name: str, players: int) -> bool:
    if selector in SMALL_GAMES:
        return game_name == selector
    if game_name != "holdem":  # the fixed-board game deals from a few cards: no hand applies
        return False
    return {
        "holdem": True,
        "heads_up": players == 2,
        "multiway": players >= 3,
        "6max": players == 6,
    }[selector]


def percent(value: float) -> str:
    """``5%``, ``0.5%``, ``97.3%``."""
    text = f"{100 * value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"
