"""Card codes and their text form.

A card is one small integer, ``code = 4 * rank + suit``, with rank 0..12 for 2..A and suit
0..3 for c, d, h, s. So ``2c`` is 0, ``2d`` is 1 and ``As`` is 51; the rank is ``code >> 2``
and the suit ``code & 3``. Every kernel in :mod:`holdemd.cards` uses this coding.

Text is what people type: ``"As Kd"``, ``"AsKd"``, ``"th9H"``, ``"10h 9h"``, ``"As,Kd"``.
Rank letters and suit letters are case-insensitive, ``10`` is accepted for ``T``, and
whitespace and commas between cards are ignored. Formatting always gives the canonical form
``"AsKd"`` (upper-case rank, lower-case suit, no separator unless one is asked for).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from holdemd.errors import UsageError
from holdemd.jit import kernel

NUM_RANKS = 13
NUM_SUITS = 4
NUM_CARDS = NUM_RANKS * NUM_SUITS

#: dtype of card arrays produced here; the kernels accept any integer dtype.
CARD_DTYPE = np.int8

RANK_CHARS = "23456789TJQKA"
SUIT_CHARS = "cdhs"

_SEPARATORS = frozenset(" \t\r\n,")
_EXPECTED = "expected a rank 2-9,T,J,Q,K,A followed by a suit c,d,h,s"


def card_code(rank: int, suit: int) -> int:
    """Code of the card with ``rank`` (0..12 for 2..A) and ``suit`` (0..3 for c, d, h, s)."""
    if not (0 <= rank < NUM_RANKS and 0 <= suit < NUM_SUITS):
        raise ValueError(f"rank {rank} / suit {suit} out of range (0..12 / 0..3)")
    return NUM_SUITS * rank + suit


def card_rank(code: int) -> int:
    """Rank 0..12 (2..A) of a card code."""
    return int(code) >> 2


def card_suit(code: int) -> int:
    """Suit 0..3 (c, d, h, s) of a card code."""
    return int(code) & 3


def _rank_of_text(text: str) -> int:
    """Rank 0..12 of one rank token (``"A"``, ``"t"``, ``"10"``, ...), or -1 if it is none."""
    if text == "10":
        return RANK_CHARS.index("T")
    if len(text) == 1 and text.upper() in RANK_CHARS:
        return RANK_CHARS.index(text.upper())
    return -1


def _tokens(text: str) -> list[str]:
    """Split ``text`` into card tokens: a rank (one character, or ``10``) plus one suit character.

    Tokens are cut by position, not validated, so that a bad card is reported as the exact
    text the user typed (``'Xs'``) rather than as a parse position.
    """
    compact = "".join(ch for ch in text if ch not in _SEPARATORS)
    tokens: list[str] = []
    i = 0
    while i < len(compact):
        width = 3 if compact.startswith("10", i) else 2
        tokens.append(compact[i : i + width])
        i += width
    return tokens


def parse_card(text: str) -> int:
    """Code of one card written as text, e.g. ``"As"`` -> 51.

    Raises
    ------
    UsageError
        If ``text`` is not exactly one card.
    """
    codes = parse_cards(text, count=1)
    return int(codes[0])


def parse_cards(text: str, count: int | None = None) -> npt.NDArray[np.int8]:
    """Card codes of a text such as ``"As Kd"``, ``"AsKd"`` or ``"Th9h"``, in the order given.

    Parameters
    ----------
    text
        Cards written one after another; whitespace and commas between cards are ignored.
    count
        If given, the number of cards the text must hold.

    Returns
    -------
    numpy.ndarray
        int8[n] card codes.

    Raises
    ------
    UsageError
        On a card that cannot be read, a card given twice, or the wrong number of cards; the
        one-line message quotes the offending card and the whole text.
    """
    codes: list[int] = []
    seen: dict[int, str] = {}
    for token in _tokens(text):
        rank = _rank_of_text(token[:-1])
        suit = SUIT_CHARS.find(token[-1].lower()) if len(token) >= 2 else -1
        if rank < 0 or suit < 0:
            raise UsageError(f"bad card {token!r} in {text!r}: {_EXPECTED}")
        code = NUM_SUITS * rank + suit
        if code in seen:
            raise UsageError(f"duplicate card {token!r} in {text!r}: each card may appear once")
        seen[code] = token
        codes.append(code)
    if count is not None and len(codes) != count:
        raise UsageError(f"expected {count} cards in {text!r}, got {len(codes)}")
    return np.array(codes, dtype=CARD_DTYPE)


def format_card(code: int) -> str:
    """Text of one card code, e.g. 51 -> ``"As"``.

    Raises
    ------
    ValueError
        If ``code`` is not in 0..51 (a caller bug, not a user error).
    """
    c = int(code)
    if not 0 <= c < NUM_CARDS:
        raise ValueError(f"card code {c} out of range 0..51")
    return RANK_CHARS[c >> 2] + SUIT_CHARS[c & 3]


def format_cards(codes: Iterable[int] | npt.NDArray[np.integer], sep: str = "") -> str:
    """Text of a sequence of card codes, e.g. ``[51, 45]`` -> ``"AsKd"`` (``sep`` between cards)."""
    return sep.join(format_card(int(c)) for c in np.asarray(codes).reshape(-1))


@kernel
def first_invalid_row(hands: np.ndarray) -> int:
    """Index of the first row of int[n, k] holding a code outside 0..51 or a repeated card,
    or -1 if every row is a valid set of cards."""
    for i in range(hands.shape[0]):
        seen = 0
        for j in range(hands.shape[1]):
            c = hands[i, j]
            if c < 0 or c > 51:
                return i
            bit = np.int64(1) << np.int64(c)
            if seen & bit:
                return i
            seen |= bit
    return -1


def as_card_matrix(hands: npt.ArrayLike, width: int, what: str) -> np.ndarray:
    """``hands`` as a C-contiguous integer array of shape (n, width), checked.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, a code outside 0..51 or a card repeated within a row.
    """
    arr = np.asarray(hands)
    if arr.ndim == 1 and arr.shape[0] == width:
        arr = arr.reshape(1, width)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{what} expects an array of shape (n, {width}), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} expects integer card codes, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=arr.dtype if arr.size else np.int8)
    bad = first_invalid_row(arr)
    if bad >= 0:
        raise ValueError(
            f"{what}: row {bad} {arr[bad].tolist()} is not {width} distinct card codes 0..51"
        )
    return arr
