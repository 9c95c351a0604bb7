"""Row flags (one bit per row, a summary byte per 4,096 rows) against a bool per row."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.config.schema import GameConfig
from holdemd.games.factory import build_game
from holdemd.hosts.stale_rows import StaleRows
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks


def test_flags_taken_in_chunks_are_each_row_once_and_the_count_follows() -> None:
    rng = np.random.default_rng(7)
    num_rows = 200_003  # not a multiple of 64 nor of 4,096
    flags = StaleRows(num_rows)
    truth = np.zeros(num_rows, dtype=bool)
    for _ in range(5):
        rows = rng.integers(0, num_rows, size=3_000)
        flags.mark(rows)
        truth[rows] = True
        lo, hi = sorted(rng.integers(0, num_rows, size=2).tolist())
        flags.mark_range(lo, hi, None, None)
        truth[lo:hi] = True
        assert flags.count == int(truth.sum())
        probe = rng.integers(0, num_rows, size=500)
        assert np.array_equal(flags.flagged(probe), truth[probe])
    taken = []
    while flags.count:
        chunk = flags.take(777)
        assert chunk.size <= 777 and (np.diff(chunk) > 0).all()
        taken.append(chunk)
    got = np.concatenate(taken)
    assert np.array_equal(np.sort(got), np.flatnonzero(truth))  # every row, once
    assert flags.take(10).size == 0


def test_a_take_resumes_where_the_last_ended_so_busy_rows_cannot_starve_others() -> None:
    flags = StaleRows(100_000)
    flags.mark(np.array([99_999]))
    for _ in range(3):
        flags.mark(np.arange(0, 50))  # flagged again and again, lowest rows
        got = flags.take(50)
        if 99_999 in got:
            break
    else:
        pytest.fail("row 99,999 never came")


def test_unmarked_rows_are_no_longer_taken() -> None:
    flags = StaleRows(1_000)
    flags.mark(np.arange(10, 20))
    flags.unmark(np.array([12, 15, 15, 500]))
    assert flags.count == 8
    assert flags.take(100).tolist() == [10, 11, 13, 14, 16, 17, 18, 19]


def test_a_lazy_range_flags_only_rows_of_allocated_blocks() -> None:
    game = build_game(GameConfig(name="leduc"))
    blocks = NodeBlocks.of(game)
    tables = LazyTables.zeros(game)
    chosen = blocks.decision_nodes[[1, 4]]
    tables.regret_at[chosen] = 0  # "allocated" (the offsets are all a range reads)
    flags = StaleRows(game.num_rows)
    flags.mark_range(0, game.num_rows, tables, blocks)
    expected = np.concatenate(
        [np.arange(blocks.row_base[d], blocks.row_base[d] + blocks.num_buckets[d]) for d in [1, 4]]
    )
    assert flags.take(game.num_rows).tolist() == sorted(expected.tolist())
