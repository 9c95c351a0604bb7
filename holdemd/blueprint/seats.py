"""Seat names, and which player index each one is.

Seats follow ``holdemd.games.nolimit``: heads-up, player 0 is the small blind *and* the button
(BTN, acts first preflop and last afterwards) and player 1 the big blind (BB). With 3 to 6
players, player 0 is SB, 1 is BB, 2 is UTG (first to act preflop) and the last player is BTN,
with HJ and CO in between as the table grows: 6-max is SB, BB, UTG, HJ, CO, BTN. Kuhn and Leduc
have no positions: P0 acts first on every round, then P1.
"""

from __future__ import annotations

from holdemd.errors import UsageError
from holdemd.games.kinds import game_kind

# Seats after the big blind, by table size: the first to act preflop is always UTG.
_AFTER_BLINDS = {2: (), 3: ("BTN",), 4: ("UTG", "BTN"), 5: ("UTG", "CO", "BTN")}
_AFTER_BLINDS[6] = ("UTG", "HJ", "CO", "BTN")


def seat_names(game_name: str, num_players: int) -> tuple[str, ...]:
    """The name of each player index."""
    if not game_kind(game_name).holdem:
        return tuple(f"P{p}" for p in range(num_players))
    if num_players == 2:
        return ("BTN", "BB")
    return ("SB", "BB", *_AFTER_BLINDS[num_players])


def parse_seat(text: str, game_name: str, num_players: int) -> int:
    """Player index of a seat name (case-insensitive), ``P0``-style or a bare index.

    Heads-up ``SB`` is accepted for the button, which posts the small blind.
    """
    names = seat_names(game_name, num_players)
    wanted = text.strip().upper()
    aliases = {name: p for p, name in enumerate(names)}
    aliases.update({f"P{p}": p for p in range(num_players)})
    aliases.update({str(p): p for p in range(num_players)})
    if num_players == 2 and game_kind(game_name).holdem:
        aliases["SB"] = 0
    if wanted in aliases:
        return aliases[wanted]
    raise UsageError(
        f"--seat {text}: no such seat in {num_players}-player {game_name}; "
        f"use one of {', '.join(names)}"
    )
