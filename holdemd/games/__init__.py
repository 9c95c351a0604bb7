"""Games as data: rules compiled into the arrays the solver kernels read."""

from __future__ import annotations

from collections.abc import Callable

from holdemd.errors import GameError
from holdemd.games.compiled import Game, GameArrays
from holdemd.games.small import kuhn, leduc

GAMES: dict[str, Callable[[], Game]] = {"kuhn": kuhn, "leduc": leduc}


def make_game(name: str) -> Game:
    """Compile the game called ``name``."""
    try:
        factory = GAMES[name]
    except KeyError:
        raise GameError(f"unknown game '{name}'; known games: {', '.join(GAMES)}") from None
    return factory()


__all__ = ["GAMES", "Game", "GameArrays", "make_game"]
