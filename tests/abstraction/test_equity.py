"""River equity against a random hand: the sweep against brute force, and sanity anchors."""

from __future__ import annotations

import numpy as np

from holdemd.abstraction.equity import EQUITY_DENOMINATOR, RIVER_PAIRS, board_equities
from holdemd.cards import parse_cards, rank7


def brute_force_numerator(hole: np.ndarray, board: np.ndarray) -> int:
    """2 * wins + ties over every opponent pair that shares no card with hole or board."""
    seen = set(hole.tolist()) | set(board.tolist())
    rest = np.array([c for c in range(52) if c not in seen])
    i, j = np.triu_indices(len(rest), k=1)
    opponents = np.column_stack([rest[i], rest[j], np.tile(board, (len(i), 1))])
    ours = rank7(np.concatenate([hole, board])[None, :])[0]
    theirs = rank7(opponents)
    assert len(theirs) == 990
    return int(2 * (theirs < ours).sum() + (theirs == ours).sum())


def numerator_of(hole: np.ndarray, board: np.ndarray) -> int:
    c0, c1, numer = board_equities(board.astype(np.int64))
    lo, hi = sorted(int(c) for c in hole)
    (position,) = np.flatnonzero((c0 == lo) & (c1 == hi))
    return int(numer[position])


def test_matches_brute_force_on_random_hands():
    rng = np.random.default_rng(11)
    for _ in range(50):
        cards = rng.permutation(52)[:7]
        hole, board = cards[:2], cards[2:]
        assert numerator_of(hole, board) == brute_force_numerator(hole, board)


def test_every_pair_on_one_board_matches_brute_force():
    board = parse_cards("Ah Kh 7c 7d 2s").astype(np.int64)
    c0, c1, numer = board_equities(board)
    assert len(numer) == RIVER_PAIRS
    assert set(zip(c0.tolist(), c1.tolist(), strict=True)).isdisjoint({(c, c) for c in range(52)})
    for p in range(0, RIVER_PAIRS, 37):
        assert numer[p] == brute_force_numerator(np.array([c0[p], c1[p]]), board)


def test_equities_sum_to_half_of_all_matchups():
    # Over all pairs, each (us, them) matchup is counted from both sides: wins + losses + ties
    # pair up, so the mean equity over pairs is exactly 1/2.
    rng = np.random.default_rng(3)
    for _ in range(5):
        _, _, numer = board_equities(rng.permutation(52)[:5].astype(np.int64))
        assert numer.sum() * 2 == EQUITY_DENOMINATOR * RIVER_PAIRS


def test_nuts_and_trash():
    royal = numerator_of(parse_cards("AsKs"), parse_cards("QsJsTs2c3d"))
    assert royal == EQUITY_DENOMINATOR  # equity 1.0
    board_plays = numerator_of(parse_cards("2c3d"), parse_cards("AsKsQsJsTs"))
    assert board_plays == EQUITY_DENOMINATOR // 2  # everyone plays the board: a tie
    trash = numerator_of(parse_cards("7c2d"), parse_cards("AhKsJd9c4h"))
    assert trash / EQUITY_DENOMINATOR < 0.15  # only beats the few worse no-pair hands
