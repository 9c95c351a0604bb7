"""Hand evaluator: category counts, known orderings, and agreement with a slow reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from holdemd.cards import (
    CATEGORY_NAMES,
    CATEGORY_START,
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
    hand_categories,
    hand_category,
    parse_cards,
    rank5,
    rank5_codes,
    rank6,
    rank6_codes,
    rank7,
    rank7_codes,
    rank_cards,
)
from holdemd.jit import kernel
from tests.conftest import NO_JIT

from .reference_evaluator import five_card_class_representatives, ref_best, ref_rank5

needs_jit = pytest.mark.skipif(NO_JIT, reason="exhaustive enumeration needs compiled kernels")

FIVE_CARD_COUNTS = [1302540, 1098240, 123552, 54912, 10200, 5108, 3744, 624, 40]
SEVEN_CARD_COUNTS = [
    23294460,
    58627800,
    31433400,
    6461620,
    6180020,
    4047644,
    3473184,
    224848,
    41584,
]


def value(text: str) -> int:
    """Value of 5..7 cards written as text."""
    cards = parse_cards(text)
    return int({5: rank5, 6: rank6, 7: rank7}[cards.size](cards[None, :])[0])


@pytest.fixture(scope="module")
def class_values() -> dict[tuple[int, ...], int]:
    """Reference strength -> kernel value, for one hand of each of the 7,462 classes."""
    hands = five_card_class_representatives()
    values = rank5(np.array(hands, dtype=np.int8))
    return {ref_rank5(h): int(v) for h, v in zip(hands, values, strict=True)}


# --- structure of the values ---------------------------------------------------------------


def test_category_boundaries():
    assert CATEGORY_START.tolist() == [1, 1278, 4138, 4996, 5854, 5864, 7141, 7297, 7453, 7463]
    assert NUM_VALUES == 7462
    assert len(CATEGORY_NAMES) == 9
    assert hand_category(1) == HIGH_CARD
    assert hand_category(1277) == HIGH_CARD
    assert hand_category(1278) == PAIR
    assert hand_category(7462) == STRAIGHT_FLUSH
    values = np.arange(1, 7463)
    cats = hand_categories(values)
    assert cats.dtype == np.int8
    assert np.bincount(cats).tolist() == [1277, 2860, 858, 858, 10, 1277, 156, 156, 10]
    with pytest.raises(ValueError):
        hand_categories([0])


def test_all_classes_ordered_like_the_reference(class_values):
    """Every 5-card class: kernel values are exactly the reference order, 1..7462."""
    assert len(class_values) == NUM_VALUES
    ordered = [class_values[s] for s in sorted(class_values)]
    assert ordered == list(range(1, NUM_VALUES + 1))
    for strength, v in class_values.items():
        assert hand_category(v) == strength[0]


# --- known hands ---------------------------------------------------------------------------


def test_worst_and_best():
    assert value("7c5d4h3s2c") == 1
    assert value("AsKsQsJsTs") == 7462
    assert value("AsKsQsJsTs9s8s") == 7462


def test_wheel_is_the_lowest_straight():
    wheel = value("As2d3h4c5s")
    assert hand_category(wheel) == STRAIGHT
    assert wheel == CATEGORY_START[STRAIGHT]
    assert wheel < value("2d3h4c5s6d") < value("TdJhQcKsAd")
    # A-K-Q-J-9 is only ace high; A-2-3-4-6 too.
    assert hand_category(value("AsKdQhJc9s")) == HIGH_CARD
    assert hand_category(value("As2d3h4c6s")) == HIGH_CARD
    # No wrap-around straight.
    assert hand_category(value("QsKdAh2c3s")) == HIGH_CARD


def test_steel_wheel_beats_quads():
    steel = value("Ah2h3h4h5h")
    assert hand_category(steel) == STRAIGHT_FLUSH
    assert steel == CATEGORY_START[STRAIGHT_FLUSH]
    assert steel > value("AsAhAdAcKs")
    assert steel < value("2h3h4h5h6h")


def test_category_ladder():
    hands = [
        "AsKdQh9c7s",  # high card
        "2s2dAhKcQs",  # pair
        "3s3d2h2cAs",  # two pair
        "4s4d4hAcKs",  # trips
        "As2d3h4c5s",  # straight (wheel)
        "2h3h4h5h7h",  # flush
        "2s2d2h3c3s",  # full house
        "2s2d2h2cAs",  # quads
        "Ah2h3h4h5h",  # straight flush
    ]
    values = [value(h) for h in hands]
    assert [hand_category(v) for v in values] == list(range(9))
    assert values == sorted(values)
    # Each is the category's lowest... except where a kicker can be lower.
    assert value("2s2d2h3c3s") == CATEGORY_START[FULL_HOUSE]
    assert value("2s2d2h2c3s") == CATEGORY_START[FOUR_OF_A_KIND]


def test_trips_beat_two_pair():
    assert hand_category(value("4s4d4hAcKs")) == THREE_OF_A_KIND
    assert value("2s2d2h4c3s") > value("AsAdKhKcQs")


def test_flush_beats_straight():
    assert value("2h3h4h5h7h") > value("TdJhQcKsAd")
    assert hand_category(value("2h3h4h5h7h")) == FLUSH


def test_kickers():
    assert value("AsAdKhQc9s") > value("AsAdKhQc8s")
    assert value("AsAdKhQc9s") > value("AhAcKdJc9d")
    assert value("AsKdQhJc9s") > value("AsKdQhJc8s")
    assert value("KsKd5h5cAs") > value("KsKd5h5cQs")
    assert value("9s9d9hAc2s") > value("9s9d9hKcQs")
    # Identical ranks in other suits tie.
    assert value("AsAdKhQc9s") == value("AhAcKdQs9d")
    # Seven cards: only the best five count; the fifth kicker decides, the sixth does not.
    assert value("AsKd9h7c5s4d2h") > value("AsKd9h7c4s3d2h")
    assert value("AsKd9h7c5s4d2h") == value("AsKd9h7c5s3d2h")


def test_counterfeited_two_pair():
    board = "KsKhQdQc5s"
    pocket_threes = value("3c3d " + board)
    assert hand_category(pocket_threes) == TWO_PAIR
    assert pocket_threes == value("4c2d " + board) == value(board)  # the board plays
    assert value("AcTd " + board) > pocket_threes  # an ace kicker still counts
    # Three pairs: the best two play with the best remaining kicker.
    assert value("KsKhQdQc5s5d2c") == value("KsKhQdQc5s2c")
    assert value("KsKhQdQc5s5dAc") == value("KsKhQdQcAc")


def test_full_houses():
    assert value("AsAdAh2c2s") > value("KsKdKhAcAs")
    assert value("3s3d3h2c2s") > value("2s2d2hAcAs")
    assert value("KsKdKhQcQs") > value("KsKdKhJcJs")
    # Two trips make a full house of the higher trips and a pair of the lower.
    assert value("KsKdKh2c2s2dAh") == value("KsKdKh2c2s")
    # Trips plus two pairs: the higher pair completes the house.
    assert value("7s7d7hQcQs2d2h") == value("7s7d7hQcQs")
    assert hand_category(value("7s7d7hQcQs2d2h")) == FULL_HOUSE


def test_seven_card_specials():
    # A six-card straight plays its top five.
    assert value("2s3d4h5c6s7d8h") == value("4h5c6s7d8h")
    # Six suited cards: the best five of them.
    assert value("2h4h6h8hTh Qh As") == value("4h6h8hThQh")
    # Straight flush inside a bigger flush.
    assert value("9h8h7h6h5h2hAs") == value("9h8h7h6h5h")
    # A flush beats the straight made with off-suit cards.
    assert hand_category(value("2h4h6h8hTh9c7d")) == FLUSH
    # Quads with a pair: quads and the best kicker.
    assert value("5s5d5h5cKsKdAh") == value("5s5d5h5cAh")


# --- agreement with the reference ----------------------------------------------------------


def random_hands(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n, 52)), axis=1)[:, :k].astype(np.int8)


@pytest.mark.parametrize("k", [5, 6, 7])
def test_random_hands_match_reference(class_values, k):
    hands = random_hands(300 if NO_JIT else 2000, k, seed=k)
    values = {5: rank5, 6: rank6, 7: rank7}[k](hands)
    assert values.dtype == np.int32
    expected = [class_values[ref_best(h.tolist())] for h in hands]
    assert values.tolist() == expected


def test_scalar_kernels_agree_with_batch():
    hands = random_hands(200, 7, seed=11)
    batch7 = rank7(hands)
    for h, v in zip(hands, batch7, strict=True):
        assert rank7_codes(*h.tolist()) == v
        assert rank_cards(h) == v
        assert rank6_codes(*h[:6].tolist()) == rank_cards(h[:6])
        assert rank5_codes(*h[:5].tolist()) == rank_cards(h[:5])


def test_any_integer_dtype():
    hands = random_hands(100, 7, seed=3)
    expected = rank7(hands)
    for dtype in (np.uint8, np.int16, np.int32, np.int64, np.uint64):
        assert (rank7(hands.astype(dtype)) == expected).all()
    assert (rank7(hands.tolist()) == expected).all()
    assert rank7(hands[0]).shape == (1,)  # one hand as a 1-D array


def subset_max(hands: np.ndarray) -> np.ndarray:
    """Best rank5 over the 5-card subsets of each row (column subsets, batch by batch)."""
    k = hands.shape[1]
    best = np.zeros(hands.shape[0], dtype=np.int32)
    for cols in itertools.combinations(range(k), 5):
        best = np.maximum(best, rank5(hands[:, list(cols)]))
    return best


@pytest.mark.parametrize("k", [6, 7])
def test_best_of_five_consistency(k):
    """rank6/rank7 equal the best rank5 over their 5-card subsets (random sample)."""
    hands = random_hands(2000 if NO_JIT else 200_000, k, seed=20 + k)
    direct = rank6(hands) if k == 6 else rank7(hands)
    assert (direct == subset_max(hands)).all()


# --- exhaustive enumerations ---------------------------------------------------------------


@kernel
def five_card_histogram() -> np.ndarray:
    """int64[7463]: number of 5-card hands of each value, over all 2,598,960 hands."""
    hist = np.zeros(NUM_VALUES + 1, dtype=np.int64)
    for a in range(52):
        for b in range(a + 1, 52):
            for c in range(b + 1, 52):
                for d in range(c + 1, 52):
                    for e in range(d + 1, 52):
                        hist[rank5_codes(a, b, c, d, e)] += 1
    return hist


@kernel
def six_card_mismatches() -> tuple[int, np.ndarray]:
    """Over all 20,358,520 six-card hands: how many rank6 values differ from the best rank5
    of the six 5-card subsets, and the value histogram."""
    hist = np.zeros(NUM_VALUES + 1, dtype=np.int64)
    bad = 0
    for a in range(52):
        for b in range(a + 1, 52):
            for c in range(b + 1, 52):
                for d in range(c + 1, 52):
                    for e in range(d + 1, 52):
                        for f in range(e + 1, 52):
                            v = rank6_codes(a, b, c, d, e, f)
                            best = max(
                                rank5_codes(b, c, d, e, f),
                                rank5_codes(a, c, d, e, f),
                                rank5_codes(a, b, d, e, f),
                                rank5_codes(a, b, c, e, f),
                                rank5_codes(a, b, c, d, f),
                                rank5_codes(a, b, c, d, e),
                            )
                            bad += v != best
                            hist[v] += 1
    return bad, hist


@kernel
def seven_card_histogram() -> np.ndarray:
    """int64[7463]: number of 7-card hands of each value, over all 133,784,560 hands."""
    hist = np.zeros(NUM_VALUES + 1, dtype=np.int64)
    for a in range(52):
        for b in range(a + 1, 52):
            for c in range(b + 1, 52):
                for d in range(c + 1, 52):
                    for e in range(d + 1, 52):
                        for f in range(e + 1, 52):
                            for g in range(f + 1, 52):
                                hist[rank7_codes(a, b, c, d, e, f, g)] += 1
    return hist


def category_counts(hist: np.ndarray) -> list[int]:
    return [int(hist[CATEGORY_START[i] : CATEGORY_START[i + 1]].sum()) for i in range(9)]


@needs_jit
def test_all_five_card_hands():
    hist = five_card_histogram()
    assert hist.sum() == 2598960
    assert category_counts(hist) == FIVE_CARD_COUNTS
    assert np.count_nonzero(hist) == 7462
    assert hist[0] == 0


@needs_jit
def test_all_six_card_hands_are_best_of_five():
    bad, hist = six_card_mismatches()
    assert bad == 0
    assert hist.sum() == 20358520
    assert hist[0] == 0


@pytest.mark.slow
@needs_jit
def test_all_seven_card_hands():
    hist = seven_card_histogram()
    assert hist.sum() == 133784560
    assert category_counts(hist) == SEVEN_CARD_COUNTS
    assert np.count_nonzero(hist) == 4824
    assert hist[0] == 0
