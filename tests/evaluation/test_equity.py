"""Equity kernels against brute force with the evaluator."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from holdemd.cards import parse_cards, rank7
from holdemd.evaluation.equity import Range, allin_equity, range_equities
from holdemd.solver.kernels.rng import make_rng_state

pytestmark = pytest.mark.needs_jit(reason="run-out enumerations need the compiled kernels")


def _score(a: int, b: int) -> float:
    return 1.0 if a > b else 0.5 if a == b else 0.0


def _brute_equity(mine, theirs, board, dead=()) -> float:
    """Equity of hole pair ``mine`` vs ``theirs`` over every completion of ``board``."""
    used = set(mine) | set(theirs) | set(board) | set(dead)
    rest = [c for c in range(52) if c not in used]
    total, count = 0.0, 0
    for extra in combinations(rest, 5 - len(board)):
        full = [*board, *extra]
        a, b = rank7(np.array([[*mine, *full], [*theirs, *full]]))
        total += _score(int(a), int(b))
        count += 1
    return total / count


@pytest.mark.parametrize("num_board", [3, 4])
def test_allin_equity_enumerates_the_turn_and_flop_runouts(num_board):
    rng = np.random.default_rng(num_board)
    for _ in range(5):
        cards = rng.permutation(52)[:9].astype(np.int64)
        got = allin_equity(cards, num_board, 0, make_rng_state(0), np.zeros(52, dtype=np.int64))
        want = _brute_equity(cards[:2], cards[2:4], cards[4 : 4 + num_board].tolist())
        assert got == pytest.approx(want, abs=1e-12)


def test_preflop_allin_equity_samples_boards_around_the_known_value():
    cards = np.zeros(9, dtype=np.int64)
    cards[:4] = parse_cards("AsAh Kd Qc").astype(np.int64)  # AA vs KQo: about 0.85
    got = allin_equity(cards, 0, 20_000, make_rng_state(1), np.zeros(52, dtype=np.int64))
    assert got == pytest.approx(0.855, abs=0.01)


def test_range_equities_are_exact_on_the_river_and_turn():
    hole = parse_cards("Jh Ts").astype(np.int64)
    for board_text in ("9h 8d 2c Ks", "9h 8d 2c Ks 3h"):
        known = parse_cards(board_text).astype(np.int64)
        board = np.zeros(5, dtype=np.int64)
        board[: known.size] = known
        used = {*hole.tolist(), *known.tolist()}
        pairs = np.array(
            [p for p in combinations(range(52), 2) if not used & set(p)][::7], dtype=np.int64
        )
        weight = np.ones(len(pairs))
        out = np.zeros(len(pairs))
        opponents = Range(pairs, weight)
        range_equities(hole[0], hole[1], board, known.size, opponents, 0, make_rng_state(0), out)
        for k in range(0, len(pairs), 11):
            want = _brute_equity(hole.tolist(), pairs[k].tolist(), known.tolist())
            assert out[k] == pytest.approx(want, abs=1e-12)


def test_flop_range_equities_sample_runouts_without_the_pairs_cards():
    hole = parse_cards("Ah Kh").astype(np.int64)
    flop = parse_cards("Qh 7h 2c").astype(np.int64)
    board = np.zeros(5, dtype=np.int64)
    board[:3] = flop
    pairs = np.array([parse_cards("Qd Qs"), parse_cards("7c 2d"), parse_cards("Jh Th")])
    pairs = pairs.astype(np.int64)
    out = np.zeros(3)
    opponents = Range(pairs, np.ones(3))
    range_equities(hole[0], hole[1], board, 3, opponents, 4000, make_rng_state(2), out)
    for k in range(3):
        want = _brute_equity(hole.tolist(), pairs[k].tolist(), flop.tolist())
        assert out[k] == pytest.approx(want, abs=0.02)


def test_range_equities_skip_pairs_without_weight():
    hole = parse_cards("2c 2d").astype(np.int64)
    board = parse_cards("As Ks Qs Js 9h").astype(np.int64)
    pairs = np.array([parse_cards("Ts 3c"), parse_cards("3c 4c")]).astype(np.int64)
    out = np.full(2, -1.0)
    opponents = Range(pairs, np.array([1.0, 0.0]))
    range_equities(hole[0], hole[1], board, 5, opponents, 0, make_rng_state(0), out)
    assert out.tolist() == [0.0, 0.5]  # the royal flush wins; the dead pair keeps the default


def test_flop_allin_equity_can_sample_runouts():
    rng = np.random.default_rng(7)
    cards = rng.permutation(52)[:9].astype(np.int64)
    scratch = np.zeros(52, dtype=np.int64)
    exact = allin_equity(cards, 3, 0, make_rng_state(0), scratch)
    sampled = allin_equity(cards, 3, 4000, make_rng_state(3), scratch)
    assert sampled == pytest.approx(exact, abs=0.02) and sampled != exact
