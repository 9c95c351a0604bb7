"""Lazy tables: the same numbers as dense tables, in less memory.

The kernels read both kinds through one traversal (``LiveTables`` / ``LazyLiveTables``), so
the exact checks on Kuhn and Leduc vouch for the lazy path only if the two agree bit for bit.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest

from holdemd.config.schema import GameConfig
from holdemd.games.factory import build_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.kernels import table_access
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks, compact_entries
from holdemd.solver.mccfr import ExternalSamplingMCCFR, apply_delta, clear_delta
from holdemd.solver.tables import Tables, average_strategy


def _game(name: Literal["kuhn", "leduc"]):
    return build_game(GameConfig(name=name))


def _solvers(game, regret_dtype=None, **knobs):
    dense = ExternalSamplingMCCFR(game, Tables.zeros(game, "float32", regret_dtype), seed=7)
    lazy = ExternalSamplingMCCFR(game, LazyTables.zeros(game, "float32", regret_dtype), seed=7)
    for solver in (dense, lazy):
        for name, value in knobs.items():
            setattr(solver, name, value)
    return dense, lazy


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
@pytest.mark.parametrize("regret_dtype", [None, "int32"])
def test_in_place_lazy_equals_dense_bit_for_bit(name, regret_dtype) -> None:
    game = _game(name)
    dense, lazy = _solvers(game, regret_dtype)
    dense.run(3000)
    lazy.run(3000)
    as_dense = lazy.tables.to_dense(game)
    np.testing.assert_array_equal(as_dense.regret, dense.tables.regret)
    np.testing.assert_array_equal(as_dense.strategy_sum, dense.tables.strategy_sum)
    exact = ExactEvaluator(game)
    assert exact.exploitability(lazy.average_policy()) == exact.exploitability(
        dense.average_policy()
    )


def test_pruning_linear_and_first_round_averaging_agree_too():
    game = _game("leduc")
    knobs = {"prune_probability": 0.5, "prune_threshold": -0.5, "average_streets": 1}
    dense, lazy = _solvers(game, **knobs)
    dense.linear = lazy.linear = True
    dense.run(4000)
    lazy.run(4000)
    as_dense = lazy.tables.to_dense(game)
    np.testing.assert_array_equal(as_dense.regret, dense.tables.regret)
    np.testing.assert_array_equal(as_dense.strategy_sum, dense.tables.strategy_sum)
    # Strategy sums only on the first round: no later-street node got a block.
    blocks = NodeBlocks.of(game)
    later = blocks.decision_nodes[blocks.street > 0]
    assert (lazy.tables.strategy_at[later] < 0).all()
    assert (lazy.tables.strategy_at[blocks.decision_nodes[blocks.street == 0]] >= 0).any()


def test_blocks_are_allocated_as_reached_and_packed():
    game = _game("leduc")
    lazy = LazyTables.zeros(game)
    assert lazy.allocated_blocks() == (0, 0) and lazy.used.tolist() == [0, 0]
    ExternalSamplingMCCFR(game, lazy, seed=1).run(20)
    blocks = NodeBlocks.of(game)
    at = lazy.regret_at[blocks.decision_nodes]
    allocated = at >= 0
    assert 0 < allocated.sum() < blocks.decision_nodes.size  # 20 iterations reach a few
    # Blocks do not overlap and fill the arena front to back, each buckets x legal actions.
    order = np.argsort(at[allocated])
    starts = at[allocated][order]
    sizes = blocks.block_entries[allocated][order]
    assert starts[0] == 0
    np.testing.assert_array_equal(starts[1:], np.cumsum(sizes)[:-1])
    assert lazy.used[0] == sizes.sum() <= compact_entries(game)


def test_a_full_arena_drops_updates_and_counts_them():
    game = _game("leduc")
    lazy = LazyTables.zeros(game, capacity=30)
    solver = ExternalSamplingMCCFR(game, lazy, seed=1)
    solver.run(50)
    assert solver.dropped_updates > 0
    assert lazy.used[0] <= 30 and lazy.used[1] <= 30


def test_dense_round_trip():
    game = _game("leduc")
    solver = ExternalSamplingMCCFR(game, Tables.zeros(game), seed=3)
    solver.run(500)
    lazy = LazyTables.from_dense(game, solver.tables)
    back = lazy.to_dense(game)
    np.testing.assert_array_equal(back.regret, solver.tables.regret)
    np.testing.assert_array_equal(back.strategy_sum, solver.tables.strategy_sum)
    rows = np.arange(0, game.num_rows, 3)
    np.testing.assert_allclose(
        lazy.average_strategy(game, rows),
        average_strategy(game, solver.tables.strategy_sum)[rows],
    )


def test_hashed_delta_buffers_record_the_same_changes(monkeypatch):
    game = _game("leduc")
    indexed = ExternalSamplingMCCFR(game, Tables.zeros(game), seed=5)
    hashed = ExternalSamplingMCCFR(game, Tables.zeros(game), seed=5)
    plain = indexed.new_delta_buffer(64)
    monkeypatch.setattr(table_access, "HASHED_ABOVE_ROWS", 0)
    buffer = hashed.new_delta_buffer(64)
    assert isinstance(buffer, table_access.HashedDeltaBuffer)
    assert isinstance(plain, table_access.DeltaBuffer)
    for _ in range(5):  # several batches, each drained: the hash is cleared in between
        ran = indexed.run_into(plain, 200)
        assert hashed.run_into(buffer, 200) == ran
        used = int(plain.used[0])
        assert int(buffer.used[0]) == used
        np.testing.assert_array_equal(buffer.rows[:used], plain.rows[:used])
        np.testing.assert_array_equal(buffer.regret[:used], plain.regret[:used])
        np.testing.assert_array_equal(buffer.strategy[:used], plain.strategy[:used])
        apply_delta(indexed.tables, plain)
        apply_delta(hashed.tables, buffer)
    clear_delta(buffer)
    assert (buffer.hash_rows == -1).all()


@pytest.mark.parametrize("regret_dtype", [None, "int32"])
def test_merging_deltas_into_lazy_tables_equals_the_dense_merge(regret_dtype) -> None:
    from holdemd.solver.kernels.rng import make_rng_state
    from holdemd.solver.lazy_tables import merge_lazy
    from holdemd.solver.tables import merge_rows

    game = _game("leduc")
    worker = ExternalSamplingMCCFR(game, Tables.zeros(game, "float32", regret_dtype), seed=9)
    dense = Tables.zeros(game, "float32", regret_dtype)
    lazy = LazyTables.zeros(game, "float32", regret_dtype)
    blocks = NodeBlocks.of(game)
    rng_dense, rng_lazy = make_rng_state(1, 5), make_rng_state(1, 5)
    delta = worker.new_delta_buffer()
    for _ in range(20):
        worker.run_into(delta, 50)
        k = int(delta.used[0])
        parts = (delta.rows[:k], delta.regret[:k], delta.strategy[:k])
        assert merge_rows(dense, *parts, -3.0, rng_dense)
        assert merge_lazy(lazy, blocks, *parts, -3.0, rng_lazy)
        clear_delta(delta)
        worker.tables = dense  # the worker reads what the merges made, like a real one
    back = lazy.to_dense(game)
    np.testing.assert_array_equal(back.regret, dense.regret)
    np.testing.assert_array_equal(back.strategy_sum, dense.strategy_sum)
    assert lazy.used[0] <= compact_entries(game)


def test_a_delta_that_would_overflow_writes_nothing() -> None:
    from holdemd.solver.kernels.rng import make_rng_state
    from holdemd.solver.lazy_tables import merge_lazy

    game = _game("leduc")
    lazy = LazyTables.zeros(game)
    blocks = NodeBlocks.of(game)
    rows = np.array([0, 5], dtype=np.int64)
    regret = np.zeros((2, game.max_actions), dtype=np.float32)
    strategy = np.ones((2, game.max_actions), dtype=np.float32)
    assert merge_lazy(lazy, blocks, rows, regret, strategy, None, make_rng_state(0, 0))
    used = lazy.used.copy()
    regret[1, 0] = np.inf
    assert not merge_lazy(lazy, blocks, rows, regret, strategy, None, make_rng_state(0, 0))
    np.testing.assert_array_equal(lazy.used, used)
    assert lazy.rows(game, rows, "strategy_sum")[:, :2].tolist() == [[1, 1], [1, 1]]
