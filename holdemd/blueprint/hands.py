"""A hand (and board) as the card class the blueprint was trained on: its bucket on a street.

The same mapping as the deal kernel (``holdemd.solver.kernels.deal.deal_outcome``): Kuhn's
bucket is the card, Leduc's the private rank then ``3 * private + public``, Hold'em's the
per-street bucket table at the suit-isomorphic hand index (computed here in Python integers,
since a single look-up is the hot path of a bot's query), and the fixed-board game's the pair
of deck positions of the hole cards (the deal kernel's own ``hole_pair_bucket``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdemd.blueprint.tree import street_name
from holdemd.cards import (
    BOARD_SIZES,
    format_card,
    format_cards,
    index_from_bits,
    index_hand,
    parse_cards,
    preflop_class_index,
    preflop_class_name,
    preflop_index,
    unindex_hand,
)
from holdemd.errors import UsageError
from holdemd.games.compiled import DEAL_HOLDEM, DEAL_HOLDEM_FIXED_BOARD, DEAL_KUHN, Game
from holdemd.solver.kernels.deal import hole_pair_bucket

SMALL_RANKS = "JQK"  # Kuhn and Leduc


@dataclass(frozen=True)
class HandBucket:
    hand: str  # canonical text: "AsKs", "K"
    board: str  # canonical text, "" without one
    street: int
    bucket: int
    label: str  # the game's name of the bucket: "AKs", "b17", "KQ"
    detail: str  # a line saying what the bucket is


def hand_bucket(game: Game, street: int, hand: str, board: str = "") -> HandBucket:
    """The bucket of ``hand`` (with ``board``) at a decision on ``street``."""
    kind = game.arrays.deal_kind
    if kind == DEAL_HOLDEM:
        return _holdem(game, street, hand, board)
    if kind == DEAL_HOLDEM_FIXED_BOARD:
        return _fixed_board(game, street, hand, board)
    return _small(game, street, hand, board, kuhn=kind == DEAL_KUHN)


def _cards(flag: str, text: str, count: int | None = None) -> np.ndarray:
    try:
        return parse_cards(text, count=count)
    except UsageError as exc:
        raise UsageError(f"{flag} {text}: {exc}") from exc


def _holdem(game: Game, street: int, hand: str, board: str) -> HandBucket:
    hole, shown = _hole_cards(hand, street)
    cards = _cards("--board", board) if board.strip() else np.zeros(0, dtype=np.int8)
    need = BOARD_SIZES[street]
    if len(cards) != need:
        raise UsageError(
            f"--board {board!r}: the decision is on the {street_name(game, street)}, which has "
            f"{need} board cards, not {len(cards)}; give {need} cards, or a --history that "
            "reaches the street of your board"
        )
    shared = set(hole.tolist()) & set(cards.tolist())
    if shared:
        raise UsageError(
            f"--board {board}: {format_cards(sorted(shared))} is also in --hand {hand}"
        )
    index = int(index_hand(street, hole, cards))
    return _holdem_bucket(game, street, shown, format_cards(cards), index)


def _holdem_bucket(game: Game, street: int, shown: str, board: str, index: int) -> HandBucket:
    bucket = int(game.arrays.bucket_tables[street][index])
    label = game.bucket_labels[street][bucket]
    count = int(game.arrays.street_buckets[street])
    if street == 0 and count == 169:
        detail = f"preflop class {label} (169 lossless classes)"
    else:
        name = street_name(game, street)
        detail = f"{name} bucket {bucket} of {count} (hand class {index:,})"
    return HandBucket(shown, board, street, bucket, label, detail)


_CARD_CODES = {format_card(code): code for code in range(52)}


def quick_cards(game: Game, street: int, hands: list[str], board: str) -> np.ndarray | None:
    """int64[n, 2 + k]: each Hold'em hand written plainly, then the board (the input of
    :func:`holdemd.cards.index_hands`); None unless every hand and the board are plain cards,
    the board fits the street and no hand shares a card with it."""
    need = BOARD_SIZES[street]
    if game.arrays.deal_kind != DEAL_HOLDEM or len(board) != 2 * need:
        return None
    shared = [_CARD_CODES.get(board[i : i + 2]) for i in range(0, len(board), 2)]
    if None in shared or len(set(shared)) != need:
        return None
    out = np.empty((len(hands), 2 + need), dtype=np.int64)
    out[:, 2:] = [c for c in shared if c is not None]
    for k, hand in enumerate(hands):
        h0, h1 = _CARD_CODES.get(hand[:2]), _CARD_CODES.get(hand[2:])
        if len(hand) != 4 or h0 is None or h1 is None or len({h0, h1, *shared}) != need + 2:
            return None
        out[k, :2] = (h0, h1)
    return out


def quick_hand_bucket(game: Game, street: int, hand: str, board: str) -> HandBucket | None:
    """`hand_bucket` of Hold'em cards written plainly (``AsKs``, ``AhKd7c``: no spaces), with
    the arithmetic in Python integers; None for anything else, which `hand_bucket` then reads
    (and explains when it is wrong). The hot path of a single look-up."""
    need = BOARD_SIZES[street]
    if game.arrays.deal_kind != DEAL_HOLDEM or len(hand) != 4 or len(board) != 2 * need:
        return None
    text = hand + board
    codes = [_CARD_CODES.get(text[i : i + 2]) for i in range(0, len(text), 2)]
    if None in codes or len(set(codes)) != len(codes):
        return None
    cards = [int(c) for c in codes if c is not None]
    if street == 0:
        index = int(preflop_index(cards[0], cards[1]))
    else:
        bits = [1 << (16 * (c & 3) + (c >> 2)) for c in cards]
        board_bits = 0
        for bit in bits[2:]:
            board_bits |= bit
        index = int(index_from_bits(street, bits[0] | bits[1], board_bits))
    return _holdem_bucket(game, street, hand, board, index)


def _hole_cards(hand: str, street: int) -> tuple[np.ndarray, str]:
    """Two hole cards and how to show them; preflop a class name such as ``AKs`` also works
    (suits do not matter there), and is shown as the class."""
    try:
        cards = parse_cards(hand, count=2)
        return cards, format_cards(cards)
    except UsageError as exc:
        if street == 0:
            try:
                index = preflop_class_index(hand)
                return unindex_hand(0, index)[:2], preflop_class_name(index)
            except UsageError:
                pass
        raise UsageError(f"--hand {hand}: {exc}; e.g. --hand AsKs") from exc


def _fixed_board(game: Game, street: int, hand: str, board: str) -> HandBucket:
    a = game.arrays
    deck = [int(c) for c in a.deck]
    hole = _cards("--hand", hand, count=2)
    slots = [int(a.card_slot[int(c)]) for c in hole]
    if min(slots) < 0:
        raise UsageError(
            f"--hand {hand}: {game.name} deals hole cards from {format_cards(deck, ' ')} only"
        )
    if board.strip():
        given = set(_cards("--board", board).tolist())
        if not given <= set(a.fixed_board.tolist()):
            raise UsageError(
                f"--board {board}: {game.name} has a fixed board, "
                f"{format_cards(a.fixed_board, ' ')}; drop --board or give those cards"
            )
    # the deal kernel's own mapping (the board is known, so the bucket is the hole pair)
    bucket = int(hole_pair_bucket(a, street, int(hole[0]), int(hole[1]), np.int64(0)))
    label = game.bucket_labels[street][bucket]
    detail = f"hole cards {label} (lossless: {int(a.street_buckets[street])} hole pairs)"
    return HandBucket(
        format_cards(hole), format_cards(a.fixed_board), street, bucket, label, detail
    )


def _rank(flag: str, text: str, game: Game) -> int:
    """A Kuhn or Leduc card given as its rank, with or without a suit: ``K``, ``Ks``."""
    cleaned = text.strip().upper()
    if cleaned[:1] in tuple(SMALL_RANKS) and cleaned[1:] in ("", "C", "D", "H", "S"):
        return SMALL_RANKS.index(cleaned[0])
    raise UsageError(
        f"{flag} {text}: {game.name} cards are J, Q or K (a suit may follow; it does not matter)"
    )


def _small(game: Game, street: int, hand: str, board: str, *, kuhn: bool) -> HandBucket:
    private = _rank("--hand", hand, game)
    if kuhn or street == 0:
        if board.strip():
            when = "Kuhn has no board" if kuhn else "the public card comes after round 1"
            raise UsageError(f"--board {board}: {when}; drop --board")
        label = game.bucket_labels[street][private]
        return HandBucket(SMALL_RANKS[private], "", street, private, label, f"card {label}")
    if not board.strip():
        raise UsageError(
            "--board: the decision is in round 2, after the public card; give it, e.g. --board Q"
        )
    public = _rank("--board", board, game)
    bucket = 3 * private + public
    label = game.bucket_labels[street][bucket]
    detail = f"private {SMALL_RANKS[private]}, public {SMALL_RANKS[public]}"
    return HandBucket(SMALL_RANKS[private], SMALL_RANKS[public], street, bucket, label, detail)
