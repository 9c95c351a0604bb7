"""Regret and strategy-sum tables, and the strategies read from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdemd.games.compiled import Game

TABLE_DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclass
class Tables:
    """``regret`` and ``strategy_sum``: [rows, max_actions], rows = (decision node, bucket)."""

    regret: np.ndarray
    strategy_sum: np.ndarray

    @classmethod
    def zeros(cls, game: Game, dtype: str = "float32") -> Tables:
        shape = (game.num_rows, game.max_actions)
        kind = TABLE_DTYPES[dtype]
        return cls(np.zeros(shape, dtype=kind), np.zeros(shape, dtype=kind))

    @property
    def nbytes(self) -> int:
        return int(self.regret.nbytes + self.strategy_sum.nbytes)


def row_num_actions(game: Game) -> np.ndarray:
    """int64[rows]: legal actions of each infoset row."""
    a = game.arrays
    out = np.zeros(game.num_rows, dtype=np.int64)
    for node in game.decision_nodes():
        base = int(a.node_row_base[node])
        out[base : base + int(a.street_buckets[a.node_street[node]])] = a.node_num_actions[node]
    return out


def legal_mask(game: Game) -> np.ndarray:
    """bool[rows, A]: which table columns are legal actions."""
    return np.arange(game.max_actions)[None, :] < row_num_actions(game)[:, None]


def normalize_rows(game: Game, weights: np.ndarray) -> np.ndarray:
    """Rows of non-negative weights as probabilities over legal actions; uniform where all zero."""
    return normalize_block(weights, legal_mask(game))


def normalize_block(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`normalize_rows` for any rows, given their legal-action mask (a caller that works
    through a big table in chunks passes each chunk's rows of both)."""
    w = np.where(mask, np.maximum(weights.astype(np.float64), 0.0), 0.0)
    totals = w.sum(axis=1, keepdims=True)
    uniform = mask / mask.sum(axis=1, keepdims=True)
    safe = np.where(totals > 0, totals, 1.0)
    return np.where(totals > 0, w / safe, uniform)


def average_strategy(game: Game, strategy_sum: np.ndarray) -> np.ndarray:
    """float64[rows, A]: the average strategy, the one that converges to equilibrium."""
    return normalize_rows(game, strategy_sum)


def current_strategy(game: Game, regret: np.ndarray) -> np.ndarray:
    """float64[rows, A]: regret matching on the tables (what the next iteration would play)."""
    return normalize_rows(game, regret)


def uniform_strategy(game: Game) -> np.ndarray:
    mask = legal_mask(game)
    return mask / mask.sum(axis=1, keepdims=True)
