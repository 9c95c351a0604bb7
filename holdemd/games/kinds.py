"""Which games holdemd knows, and what sets them apart: the one place that switches on a
game's name. Every other module asks ``game_kind(name)`` instead of comparing names.

Plain data, standard library only, so the config schema can check a config against it without
loading numpy (building a game is ``games.factory``'s job).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

HOLDEM_STREETS: Final = ("preflop", "flop", "turn", "river")


@dataclass(frozen=True)
class GameKind:
    name: str
    fixed_rules: bool  # Kuhn, Leduc: the rules are the game's own, two players, no menu
    holdem: bool  # Hold'em cards: seats, blinds, bet menus, mbb/hand, street names
    needs_buckets: bool  # dealt from the whole deck: a card abstraction maps hands to rows
    fixed_board: bool  # a known board and a small hole-card deck: exact checks possible
    equilibrium_value: float | None = None  # game value for player 0, where it is known

    def street_name(self, street: int) -> str:
        return HOLDEM_STREETS[street] if self.holdem else f"round {street + 1}"


GAME_KINDS: Final[dict[str, GameKind]] = {
    kind.name: kind
    for kind in (
        # Values from REFERENCE.md: Kuhn -1/18, Leduc -0.085606424078.
        GameKind("kuhn", True, False, False, False, equilibrium_value=-1 / 18),
        GameKind("leduc", True, False, False, False, equilibrium_value=-0.085606424078),
        GameKind("holdem", False, True, True, False),
        GameKind("holdem_fixed_board", False, True, False, True),
    )
}


def game_kind(name: str) -> GameKind:
    """The kind of the game called ``name``; a KeyError names the known ones."""
    try:
        return GAME_KINDS[name]
    except KeyError:
        raise KeyError(f"unknown game {name!r}; known: {', '.join(GAME_KINDS)}") from None
