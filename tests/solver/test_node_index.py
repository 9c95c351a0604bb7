"""The node of each row, through the coarse table, against numpy's binary search."""

from __future__ import annotations

import numpy as np

from holdemd.config.schema import GameConfig
from holdemd.games.factory import build_game
from holdemd.solver.lazy_tables import NodeBlocks


def _blocks(sizes: np.ndarray) -> NodeBlocks:
    row_base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    d = sizes.size
    return NodeBlocks(
        decision_nodes=np.arange(d, dtype=np.int64),
        row_base=row_base,
        num_actions=np.full(d, 2, dtype=np.int32),
        num_buckets=sizes.astype(np.int32),
        street=np.zeros(d, dtype=np.int32),
    )


def test_every_row_finds_its_node_as_a_binary_search_does() -> None:
    rng = np.random.default_rng(4)
    # Nodes of 1 to 5,000 rows: many per coarse entry, and nodes spanning several entries.
    sizes = np.concatenate([rng.integers(1, 5, 3000), rng.integers(1000, 5000, 300)])
    rng.shuffle(sizes)
    blocks = _blocks(sizes)
    num_rows = int(sizes.sum())
    rows = np.concatenate([np.arange(num_rows), rng.integers(0, num_rows, 10_000)])
    expected = np.searchsorted(blocks.row_base, rows, side="right") - 1
    assert np.array_equal(blocks.node_index(rows), expected)
    assert np.array_equal(blocks.node_index(rows.astype(np.int32)), expected)
    assert blocks.node_index(np.zeros(0, dtype=np.int64)).size == 0


def test_a_games_rows_find_their_nodes() -> None:
    blocks = NodeBlocks.of(build_game(GameConfig(name="leduc")))
    rows = np.arange(int(blocks.row_base[-1] + blocks.num_buckets[-1]))
    expected = np.searchsorted(blocks.row_base, rows, side="right") - 1
    assert np.array_equal(blocks.node_index(rows), expected)
