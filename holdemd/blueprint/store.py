"""Where a blueprint's probabilities come from: a file's quantized rows, or a table of strategy
sums (a snapshot's, or a running training's live table) normalized on the fly.

Both answer the same two questions: one row (``row``, the hot path of a single look-up: a
slice, no fancy indexing) and many rows of one node (``rows``, vectorized).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.tables import average_strategy, normalize_block


class StrategyStore(Protocol):
    def row(self, node: int, bucket: int) -> tuple[np.ndarray, bool]:
        """(float64[n] probabilities over the node's legal actions, trained)."""
        ...

    def rows(self, node: int, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(float64[k, n], bool[k]) for int64[k] ``buckets`` of ``node``."""
        ...

    def policy(self, game: Game) -> np.ndarray:
        """float64[rows, max_actions]: every row."""
        ...


class QuantizedStore:
    """A blueprint file's strategy: row ``b`` of node ``n`` is
    ``probabilities[node_offset[n] + b * n_actions : + n_actions] / scale``."""

    def __init__(
        self,
        probabilities: np.ndarray,
        node_offset: np.ndarray,
        node_num_actions: np.ndarray,
        node_row_base: np.ndarray,
        trained: np.ndarray,
        scale: int,
    ) -> None:
        self.probabilities = probabilities
        self.node_offset = node_offset
        self.node_num_actions = node_num_actions
        self.node_row_base = node_row_base
        self.trained = trained
        self.scale = scale

    def row(self, node: int, bucket: int) -> tuple[np.ndarray, bool]:
        n = int(self.node_num_actions[node])
        start = int(self.node_offset[node]) + bucket * n
        probs = self.probabilities[start : start + n] / self.scale  # as docs/blueprint.md
        row = int(self.node_row_base[node]) + bucket
        return probs, bool((int(self.trained[row >> 3]) >> (row & 7)) & 1)

    def rows(self, node: int, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = int(self.node_num_actions[node])
        buckets = np.asarray(buckets, dtype=np.int64)
        starts = int(self.node_offset[node]) + buckets * n
        probs = self.probabilities[starts[:, None] + np.arange(n)[None, :]] / self.scale
        rows = int(self.node_row_base[node]) + buckets
        trained = ((self.trained[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1).astype(bool)
        return probs, trained

    def policy(self, game: Game) -> np.ndarray:
        """float64[rows, max_actions]: every row decoded (small games: exact evaluation)."""
        a = game.arrays
        out = np.zeros((game.num_rows, game.max_actions))
        for node in np.flatnonzero(self.node_row_base >= 0):
            buckets = np.arange(int(a.street_buckets[a.node_street[node]]))
            probs, _ = self.rows(int(node), buckets)
            base = int(self.node_row_base[node])
            out[base : base + len(buckets), : probs.shape[1]] = probs
        return out


class TableStore:
    """Strategy sums ``[rows, max_actions]`` normalized row by row as
    :func:`holdemd.solver.tables.average_strategy` does (negative sums count as zero; a row
    never updated is uniform). Reads only the rows asked for, so a live training table can be
    queried while it trains."""

    def __init__(
        self, strategy_sum: np.ndarray, node_num_actions: np.ndarray, node_row_base: np.ndarray
    ) -> None:
        self.strategy_sum = strategy_sum
        self.node_num_actions = node_num_actions
        self.node_row_base = node_row_base

    def row(self, node: int, bucket: int) -> tuple[np.ndarray, bool]:
        probs, trained = self.rows(node, np.array([bucket], dtype=np.int64))
        return probs[0], bool(trained[0])

    def rows(self, node: int, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = int(self.node_num_actions[node])
        rows = int(self.node_row_base[node]) + np.asarray(buckets, dtype=np.int64)
        weights = self.strategy_sum[rows, :n]
        probs = normalize_block(weights, np.ones(weights.shape, dtype=np.bool_))
        return probs, np.asarray((weights > 0).any(axis=1))

    def policy(self, game: Game) -> np.ndarray:
        return average_strategy(game, self.strategy_sum)
