"""Suit-isomorphic hand indices: counts, bijectivity, invariance and preflop names."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from holdemd.cards import (
    BOARD_SIZES,
    FLOP,
    PREFLOP,
    RIVER,
    TURN,
    index_cards,
    index_from_bits,
    index_hand,
    index_hands,
    num_indices,
    parse_cards,
    preflop_class_index,
    preflop_class_name,
    preflop_grid_position,
    preflop_index,
    suit_rank_bit,
    unindex_hand,
    unindex_hands,
    unindex_into,
)
from holdemd.errors import UsageError
from holdemd.jit import kernel
from tests.conftest import NO_JIT

from .reference_evaluator import canonical_form

needs_jit = pytest.mark.skipif(NO_JIT, reason="exhaustive enumeration needs compiled kernels")

EXPECTED_COUNTS = {PREFLOP: 169, FLOP: 1286792, TURN: 13960050, RIVER: 123156254}


def random_hands(n: int, street: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    width = 2 + BOARD_SIZES[street]
    return np.argsort(rng.random((n, 52)), axis=1)[:, :width].astype(np.int8)


def test_counts():
    for street, count in EXPECTED_COUNTS.items():
        assert num_indices(street) == count
    with pytest.raises(ValueError):
        num_indices(4)


# --- preflop -------------------------------------------------------------------------------


def test_preflop_exhaustive():
    holes = np.array(list(itertools.combinations(range(52), 2)), dtype=np.int8)
    idx = index_hands(PREFLOP, holes)
    assert sorted(set(idx.tolist())) == list(range(169))
    combos = np.bincount(idx, minlength=169)
    assert combos[:13].tolist() == [6] * 13  # pairs
    assert combos[13:91].tolist() == [4] * 78  # suited
    assert combos[91:].tolist() == [12] * 78  # offsuit


def test_preflop_order_and_names():
    assert [preflop_class_name(i) for i in (0, 12, 13, 14, 90, 91, 168)] == [
        "22",
        "AA",
        "32s",
        "42s",
        "AKs",
        "32o",
        "AKo",
    ]
    names = [preflop_class_name(i) for i in range(169)]
    assert len(set(names)) == 169
    for i, name in enumerate(names):
        assert preflop_class_index(name) == i
    assert preflop_class_index("KAs") == preflop_class_index("ak s") == 90
    assert preflop_class_index("T9o") == preflop_class_index("109o")
    for bad in ("AK", "AAs", "XYs", "AKx", "A", ""):
        with pytest.raises(UsageError, match="bad preflop class"):
            preflop_class_index(bad)
    with pytest.raises(ValueError):
        preflop_class_name(169)


def test_preflop_index_of_cards_matches_names():
    for text, name in [("AsAd", "AA"), ("AsKs", "AKs"), ("Kd Ah", "AKo"), ("7c2d", "72o")]:
        hole = parse_cards(text)
        assert index_hand(PREFLOP, hole, hole[:0]) == preflop_class_index(name)
        assert preflop_class_name(int(index_hands(PREFLOP, hole[None, :])[0])) == name


def test_preflop_grid():
    cells = {preflop_grid_position(i) for i in range(169)}
    assert cells == {(r, c) for r in range(13) for c in range(13)}
    assert preflop_grid_position(preflop_class_index("AA")) == (0, 0)
    assert preflop_grid_position(preflop_class_index("22")) == (12, 12)
    assert preflop_grid_position(preflop_class_index("AKs")) == (0, 1)  # suited: above
    assert preflop_grid_position(preflop_class_index("AKo")) == (1, 0)  # offsuit: below


def test_preflop_unindex():
    back = unindex_hands(PREFLOP, np.arange(169))
    assert (index_hands(PREFLOP, back) == np.arange(169)).all()


# --- postflop ------------------------------------------------------------------------------


@pytest.mark.parametrize("street", [FLOP, TURN, RIVER])
def test_random_hands_round_trip(street):
    hands = random_hands(300 if NO_JIT else 3000, street, seed=street)
    idx = index_hands(street, hands)
    assert idx.dtype == np.int64
    assert ((idx >= 0) & (idx < EXPECTED_COUNTS[street])).all()
    back = unindex_hands(street, idx)
    assert back.shape == hands.shape
    assert (index_hands(street, back) == idx).all()
    for x, y in zip(hands[:300], back[:300], strict=True):
        assert canonical_form(x[:2], x[2:]) == canonical_form(y[:2], y[2:])


@pytest.mark.parametrize("street", [PREFLOP, FLOP, TURN, RIVER])
def test_random_indices_round_trip(street):
    rng = np.random.default_rng(100 + street)
    count = EXPECTED_COUNTS[street]
    idx = np.concatenate(([0, count - 1], rng.integers(0, count, 500 if NO_JIT else 20000)))
    hands = unindex_hands(street, idx)
    assert (index_hands(street, hands) == idx).all()  # also validates: distinct cards 0..51
    # Representatives list hole then board, each ascending.
    assert (np.diff(hands[:, :2], axis=1) > 0).all()
    assert (np.diff(hands[:, 2:], axis=1) > 0).all()


@pytest.mark.parametrize("street", [FLOP, TURN, RIVER])
def test_isomorphic_hands_share_an_index(street):
    rng = np.random.default_rng(200 + street)
    hands = random_hands(200 if NO_JIT else 2000, street, seed=300 + street)
    base = index_hands(street, hands)
    for _ in range(3):
        perm = rng.permutation(4)
        relabelled = (hands & ~3) | perm[hands & 3]
        # Shuffle cards within the hole and within the board too.
        relabelled[:, :2] = relabelled[:, rng.permutation(2)]
        relabelled[:, 2:] = relabelled[:, 2 + rng.permutation(hands.shape[1] - 2)]
        assert (index_hands(street, relabelled.astype(np.int8)) == base).all()


def test_distinct_classes_get_distinct_indices():
    # Same cards, different split between hole and board: not isomorphic.
    a = parse_cards("AsKs QsJsTs")
    b = parse_cards("AsQs KsJsTs")
    assert index_cards(FLOP, a) != index_cards(FLOP, b)
    # Flush draw versus rainbow.
    c = parse_cards("AsKs 2s3s4d")
    d = parse_cards("AsKs 2s3d4h")
    assert index_cards(FLOP, c) != index_cards(FLOP, d)


def test_scalar_kernels():
    hand = parse_cards("Ah Kd 7c 7h 2s 9d Qc")
    for street in (FLOP, TURN, RIVER):
        cards = hand[: 2 + BOARD_SIZES[street]]
        i = index_cards(street, cards)
        assert i == index_hand(street, cards[:2], cards[2:])
        out = np.zeros(cards.size, dtype=np.int64)
        unindex_into(street, i, out)
        assert index_cards(street, out) == i
        assert unindex_hand(street, i).tolist() == out.tolist()


@pytest.mark.parametrize("street", [PREFLOP, FLOP, TURN, RIVER])
def test_bits_api_matches(street):
    """index_from_bits on ORed suit_rank_bit equals index_cards (shared-board use)."""
    for hand in random_hands(200, street, seed=400 + street):
        hole_bits = suit_rank_bit(hand[0]) | suit_rank_bit(hand[1])
        board_bits = 0
        for c in hand[2:]:
            board_bits |= suit_rank_bit(c)
        assert index_from_bits(street, hole_bits, board_bits) == index_cards(street, hand)
        if street == PREFLOP:
            assert preflop_index(hand[0], hand[1]) == index_cards(street, hand)
    assert suit_rank_bit(parse_cards("As")[0]) == 1 << (16 * 3 + 12)


def test_bad_input():
    with pytest.raises(ValueError):
        index_hands(FLOP, np.zeros((1, 4), dtype=np.int8))  # wrong width
    with pytest.raises(ValueError):
        index_hands(FLOP, np.array([[0, 0, 1, 2, 3]]))  # repeated card
    with pytest.raises(ValueError):
        index_hands(7, np.zeros((1, 5), dtype=np.int8))
    with pytest.raises(ValueError):
        unindex_hands(RIVER, [EXPECTED_COUNTS[RIVER]])


# --- exhaustive ----------------------------------------------------------------------------


@kernel
def flop_coverage() -> tuple[int, int, np.ndarray]:
    """Index every (hole, flop) of the deck: (hands, out-of-range, hits per index)."""
    hits = np.zeros(1286792, dtype=np.int32)
    hole = np.zeros(2, dtype=np.int64)
    board = np.zeros(3, dtype=np.int64)
    hands = 0
    bad = 0
    for h0 in range(52):
        for h1 in range(h0 + 1, 52):
            hole[0] = h0
            hole[1] = h1
            used = (1 << h0) | (1 << h1)
            for b0 in range(52):
                for b1 in range(b0 + 1, 52):
                    for b2 in range(b1 + 1, 52):
                        if used & ((1 << b0) | (1 << b1) | (1 << b2)):
                            continue
                        board[0] = b0
                        board[1] = b1
                        board[2] = b2
                        i = index_hand(1, hole, board)
                        hands += 1
                        if i < 0 or i >= hits.size:
                            bad += 1
                        else:
                            hits[i] += 1
    return hands, bad, hits


@kernel
def turn_coverage() -> tuple[int, int, int]:
    """Index every (hole, turn board) of the deck: (hands, out-of-range, indices never hit)."""
    hits = np.zeros(13960050, dtype=np.bool_)
    hole = np.zeros(2, dtype=np.int64)
    board = np.zeros(4, dtype=np.int64)
    hands = 0
    bad = 0
    for h0 in range(52):
        for h1 in range(h0 + 1, 52):
            hole[0] = h0
            hole[1] = h1
            used = (1 << h0) | (1 << h1)
            for b0 in range(52):
                for b1 in range(b0 + 1, 52):
                    for b2 in range(b1 + 1, 52):
                        for b3 in range(b2 + 1, 52):
                            if used & ((1 << b0) | (1 << b1) | (1 << b2) | (1 << b3)):
                                continue
                            board[0] = b0
                            board[1] = b1
                            board[2] = b2
                            board[3] = b3
                            i = index_hand(2, hole, board)
                            hands += 1
                            if i < 0 or i >= hits.size:
                                bad += 1
                            else:
                                hits[i] = True
    return hands, bad, hits.size - np.count_nonzero(hits)


@kernel
def round_trip_failures(street: int, count: int) -> int:
    """Indices ``i`` in ``0..count-1`` with ``index(unindex(i)) != i``."""
    out = np.zeros(2 + (street + 2), dtype=np.int64)
    bad = 0
    for i in range(count):
        unindex_into(street, i, out)
        bad += index_cards(street, out) != i
    return bad


@needs_jit
def test_flop_exhaustive():
    hands, bad, hits = flop_coverage()
    assert hands == 1326 * 19600
    assert bad == 0
    assert np.count_nonzero(hits) == 1286792  # every index is reached: a bijection
    assert hits.sum() == hands


@pytest.mark.slow
@needs_jit
def test_turn_exhaustive():
    hands, bad, missing = turn_coverage()
    assert hands == 1326 * 230300
    assert bad == 0
    assert missing == 0


@pytest.mark.slow
@needs_jit
@pytest.mark.parametrize("street", [TURN, RIVER])
def test_every_index_round_trips(street):
    assert round_trip_failures(street, EXPECTED_COUNTS[street]) == 0
