"""Cards: codes and text, a fast 5/6/7-card hand evaluator, and suit-isomorphic hand indices.

Modules: codes (card codes and text); evaluator (hand values) with evaluator_tables (its
lookup tables) and hand_ranking (what beats what); streets; preflop (the 169 preflop classes),
isomorphism (hand -> class index), unindex (class index -> a representative hand) and
isomorphism_tables (the tables both read).

Card code = ``4 * rank + suit`` (rank 0..12 for 2..A, suit 0..3 for c, d, h, s).

Python API (validating, array in / array out)::

    parse_cards("AsKd") -> int8[2]          format_cards([51, 45]) -> "AsKd"
    rank7(int[n, 7]) -> int32[n]            rank6, rank5 likewise; values 1..7462, higher wins
    hand_categories(values) -> int8[n]      0 high card .. 8 straight flush
    index_hands(street, int[n, 2+k]) -> int64[n]     unindex_hands(street, int[n]) -> int8[n, 2+k]
    num_indices(street)                     preflop_class_name(i) / preflop_class_index("AKs")

Numba kernels for other kernels to call inline (no checks, no allocation)::

    rank7_codes(c0, ..., c6) -> int32       rank6_codes, rank5_codes, rank_cards(int[k])
    hand_category(value) -> int
    index_hand(street, hole int[2], board int[k]) -> int    index_cards(street, int[2+k])
    preflop_index(c0, c1) -> int            suit_rank_bit(card) -> int64
    index_from_bits(street, hole_bits, board_bits) -> int  (bits: OR of suit_rank_bit)
    unindex_into(street, index, out int[2+k])
"""

from holdemd.cards.codes import (
    CARD_DTYPE,
    NUM_CARDS,
    NUM_RANKS,
    NUM_SUITS,
    RANK_CHARS,
    SUIT_CHARS,
    card_code,
    card_rank,
    card_suit,
    format_card,
    format_cards,
    parse_card,
    parse_cards,
)
from holdemd.cards.evaluator import (
    hand_categories,
    hand_category,
    rank5,
    rank5_codes,
    rank6,
    rank6_codes,
    rank7,
    rank7_codes,
    rank_cards,
)
from holdemd.cards.evaluator_tables import CATEGORY_START
from holdemd.cards.hand_ranking import (
    CATEGORY_NAMES,
    FLUSH,
    FOUR_OF_A_KIND,
    FULL_HOUSE,
    HIGH_CARD,
    NUM_VALUES,
    PAIR,
    STRAIGHT,
    STRAIGHT_FLUSH,
    THREE_OF_A_KIND,
    TWO_PAIR,
)
from holdemd.cards.isomorphism import (
    index_cards,
    index_from_bits,
    index_hand,
    index_hands,
    num_indices,
    suit_rank_bit,
)
from holdemd.cards.preflop import (
    preflop_class_index,
    preflop_class_name,
    preflop_grid_position,
    preflop_index,
)
from holdemd.cards.streets import BOARD_SIZES, FLOP, PREFLOP, RIVER, STREET_NAMES, TURN
from holdemd.cards.unindex import unindex_hand, unindex_hands, unindex_into

__all__ = [
    "BOARD_SIZES",
    "CARD_DTYPE",
    "CATEGORY_NAMES",
    "CATEGORY_START",
    "FLOP",
    "FLUSH",
    "FOUR_OF_A_KIND",
    "FULL_HOUSE",
    "HIGH_CARD",
    "NUM_CARDS",
    "NUM_RANKS",
    "NUM_SUITS",
    "NUM_VALUES",
    "PAIR",
    "PREFLOP",
    "RANK_CHARS",
    "RIVER",
    "STRAIGHT",
    "STRAIGHT_FLUSH",
    "STREET_NAMES",
    "SUIT_CHARS",
    "THREE_OF_A_KIND",
    "TURN",
    "TWO_PAIR",
    "card_code",
    "card_rank",
    "card_suit",
    "format_card",
    "format_cards",
    "hand_categories",
    "hand_category",
    "index_cards",
    "index_from_bits",
    "index_hand",
    "index_hands",
    "num_indices",
    "parse_card",
    "parse_cards",
    "preflop_class_index",
    "preflop_class_name",
    "preflop_grid_position",
    "preflop_index",
    "rank5",
    "rank5_codes",
    "rank6",
    "rank6_codes",
    "rank7",
    "rank7_codes",
    "rank_cards",
    "suit_rank_bit",
    "unindex_hand",
    "unindex_hands",
    "unindex_into",
]
