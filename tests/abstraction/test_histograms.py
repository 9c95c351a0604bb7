"""Turn and flop equity-distribution rows against one-hand-at-a-time references."""

from __future__ import annotations

import numpy as np

from holdemd.abstraction.boards import canonical_boards
from holdemd.abstraction.equity import NUM_EQUITY_VALUES, RIVER_PAIRS
from holdemd.abstraction.histograms import (
    FLOP_RUNOUTS,
    FLOP_SCALE,
    flop_pass,
    mean_equities,
    turn_pass,
)
from holdemd.cards import index_hands, num_indices, parse_cards, unindex_hand
from tests.abstraction.reference import turn_histogram, turn_row

BINS = 50


def test_turn_rows_and_river_tally_on_some_boards():
    boards, class_sizes = canonical_boards(4)
    picks = [0, 7777, len(boards) - 1]
    rows = np.zeros((num_indices(2), BINS - 1), dtype=np.uint8)  # lazily allocated pages
    tally = np.zeros((2, NUM_EQUITY_VALUES), dtype=np.int64)
    turn_pass(boards[picks], class_sizes[picks], BINS, 2, rows, tally)
    assert tally.sum() == class_sizes[picks].sum() * 48 * RIVER_PAIRS
    rng = np.random.default_rng(0)
    for pick in picks:
        board = boards[pick].astype(np.int64)
        rest = np.setdiff1d(np.arange(52), board)
        for _ in range(3):
            hole = rng.choice(rest, 2, replace=False)
            index = index_hands(2, np.concatenate([hole, board])[None, :])[0]
            np.testing.assert_array_equal(rows[index], turn_row(hole, board, BINS))


def test_flop_row_is_the_scaled_sum_of_its_turn_rows():
    flop = index_hands(1, parse_cards("AcAd7h8h9s")[None, :])[0]
    hand = unindex_hand(1, flop).astype(np.int64)
    hole, board = hand[:2], hand[2:]
    turn_rows = np.zeros((num_indices(2), BINS - 1), dtype=np.uint8)
    total = np.zeros(BINS, dtype=np.int64)
    for turn in np.setdiff1d(np.arange(52), hand):
        turn_board = np.append(board, turn)
        hist = turn_histogram(hole, turn_board, BINS)
        index = index_hands(2, np.concatenate([hole, turn_board])[None, :])[0]
        turn_rows[index] = np.cumsum(hist)[:-1]
        total += hist
    flop_rows = np.zeros((num_indices(1), BINS - 1), dtype=np.uint8)
    flop_pass(turn_rows, flop, flop + 1, 1, flop_rows)
    assert total.sum() == FLOP_RUNOUTS
    want = (np.cumsum(total)[:-1] * FLOP_SCALE + FLOP_RUNOUTS // 2) // FLOP_RUNOUTS
    np.testing.assert_array_equal(flop_rows[flop], want)
    # An overpair with a straight-flush draw against it: strong, but far from locked.
    assert 0.6 < mean_equities(flop_rows[flop : flop + 1], FLOP_SCALE)[0] < 0.85


def test_mean_equities_of_point_masses():
    bins = 10
    for b in range(bins):
        hist = np.zeros(bins, dtype=np.int64)
        hist[b] = 46
        row = np.cumsum(hist)[:-1].astype(np.uint8)[None, :]
        assert abs(mean_equities(row, 46)[0] - (b + 0.5) / bins) < 1e-12
