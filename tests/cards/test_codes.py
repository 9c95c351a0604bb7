"""Card codes and their text form."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.cards import (
    card_code,
    card_rank,
    card_suit,
    format_card,
    format_cards,
    parse_card,
    parse_cards,
)
from holdemd.errors import UsageError


def test_code_layout():
    assert card_code(0, 0) == 0  # 2c
    assert card_code(12, 3) == 51  # As
    assert parse_card("2c") == 0
    assert parse_card("2d") == 1
    assert parse_card("As") == 51
    assert parse_card("Kd") == 4 * 11 + 1
    assert card_rank(51) == 12 and card_suit(51) == 3
    with pytest.raises(ValueError):
        card_code(13, 0)


@pytest.mark.parametrize(
    "text",
    ["As Kd", "AsKd", "as kd", "AS KD", "  As,Kd ", "As, Kd", "aSkD"],
)
def test_parse_spellings(text):
    codes = parse_cards(text)
    assert codes.dtype == np.int8
    assert codes.tolist() == [51, 45]


def test_parse_ten_and_order():
    assert parse_cards("Th9h").tolist() == parse_cards("10h 9h").tolist() == [34, 30]
    assert parse_cards("10h9h").tolist() == [34, 30]
    assert parse_cards("tH").tolist() == [34]
    assert parse_cards("").tolist() == []


def test_round_trip_all_cards():
    text = format_cards(range(52))
    assert text.startswith("2c2d2h2s3c") and text.endswith("AcAdAhAs")
    assert parse_cards(text).tolist() == list(range(52))
    assert format_cards(np.array([51, 45], dtype=np.int8)) == "AsKd"
    assert format_cards([51, 45], sep=" ") == "As Kd"
    assert format_card(0) == "2c"


@pytest.mark.parametrize(
    ("text", "bad"),
    [("XsKd", "Xs"), ("AxKd", "Ax"), ("AsK", "K"), ("1s", "1s"), ("As Kd 11c", "11")],
)
def test_bad_card_message(text, bad):
    with pytest.raises(UsageError) as info:
        parse_cards(text)
    message = str(info.value)
    assert "\n" not in message
    assert f"bad card {bad!r} in {text!r}" in message
    assert "expected a rank 2-9,T,J,Q,K,A followed by a suit c,d,h,s" in message


def test_exact_message_from_the_spec():
    with pytest.raises(UsageError, match=r"^bad card 'Xs' in 'XsKd': expected a rank"):
        parse_cards("XsKd")


def test_duplicate_card():
    with pytest.raises(UsageError, match="duplicate card 'as' in 'As as'"):
        parse_cards("As as")


def test_count():
    assert parse_cards("AsKd", count=2).tolist() == [51, 45]
    with pytest.raises(UsageError, match="expected 2 cards in 'AsKdQh', got 3"):
        parse_cards("AsKdQh", count=2)
    with pytest.raises(UsageError):
        parse_card("")


def test_format_rejects_bad_codes():
    with pytest.raises(ValueError):
        format_card(52)
    with pytest.raises(ValueError):
        format_cards([-1])
