"""A board as batch look-ups and ranges need it: the cards of the decision's street, checked
the way ``strategy show`` checks ``--board``."""

from __future__ import annotations

import numpy as np

from holdemd.blueprint.hands import SMALL_RANKS
from holdemd.blueprint.tree import street_name
from holdemd.cards import BOARD_SIZES, format_cards, parse_cards
from holdemd.errors import UsageError
from holdemd.games.compiled import DEAL_HOLDEM, DEAL_HOLDEM_FIXED_BOARD, DEAL_KUHN, Game


def board_cards(game: Game, street: int, board: str) -> np.ndarray:
    """int64 cards of ``board`` for a decision on ``street``: Hold'em card codes (exactly the
    street's count), the fixed board of ``holdem_fixed_board``, Leduc's ``[public rank]`` in
    round 2; `UsageError` when they do not fit."""
    kind = game.arrays.deal_kind
    text = board.strip()
    if kind == DEAL_HOLDEM:
        try:
            cards = parse_cards(text) if text else np.zeros(0, dtype=np.int8)
        except UsageError as exc:
            raise UsageError(f"--board {board}: {exc}") from exc
        need = BOARD_SIZES[street]
        if len(cards) != need:
            raise UsageError(
                f"--board {board!r}: the decision is on the {street_name(game, street)}, which "
                f"has {need} board cards, not {len(cards)}; give {need} cards"
            )
        return cards.astype(np.int64)
    if kind == DEAL_HOLDEM_FIXED_BOARD:
        fixed = game.arrays.fixed_board
        if text and not set(parse_cards(text).tolist()) <= set(fixed.tolist()):
            raise UsageError(
                f"--board {board}: {game.name} has a fixed board, {format_cards(fixed, ' ')}"
            )
        return fixed.astype(np.int64)
    if kind == DEAL_KUHN or street == 0:
        if text:
            raise UsageError(f"--board {board}: there is no board at this decision; drop it")
        return np.zeros(0, dtype=np.int64)
    rank = text[:1].upper()
    if rank not in SMALL_RANKS or text[1:].lower() not in ("", "c", "d", "h", "s"):
        raise UsageError(f"--board {board!r}: round 2 needs the public card, J, Q or K")
    return np.array([SMALL_RANKS.index(rank)], dtype=np.int64)
