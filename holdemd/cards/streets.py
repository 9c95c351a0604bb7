"""Hold'em's four streets: their numbers, names, and the cards each one shows.

Every street-indexed table in :mod:`holdemd.cards` (and the card abstraction built on it) uses
these numbers: 0 preflop, 1 flop, 2 turn, 3 river.
"""

from __future__ import annotations

PREFLOP, FLOP, TURN, RIVER = 0, 1, 2, 3
STREET_NAMES: tuple[str, ...] = ("preflop", "flop", "turn", "river")
BOARD_SIZES: tuple[int, ...] = (0, 3, 4, 5)  # board cards showing on each street
HOLE_SIZE = 2
