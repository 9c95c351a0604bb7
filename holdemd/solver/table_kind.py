"""Which kind of tables a run uses: dense or lazily allocated (``solver.tables``)."""

from __future__ import annotations

import numpy as np

from holdemd.config.schema import Config
from holdemd.games.compiled import Game

AUTO_LAZY_ABOVE_BYTES = 2 << 30  # `auto`: lazy tables once dense ones would exceed this


def table_itemsizes(config: Config) -> tuple[int, int]:
    """Bytes per entry of the regret table and of the strategy-sum table."""
    solver = config.solver
    regret = np.dtype(solver.regret_dtype or solver.table_dtype).itemsize
    return regret, np.dtype(solver.table_dtype).itemsize


def dense_table_bytes(config: Config, num_rows: int, max_actions: int) -> int:
    """Bytes of both dense tables of a game with ``num_rows`` rows."""
    return num_rows * max_actions * sum(table_itemsizes(config))


def uses_lazy_tables(config: Config, num_rows: int, max_actions: int) -> bool:
    """Whether a run of ``config`` on a game of this size keeps lazily allocated tables."""
    choice = config.solver.tables
    if choice != "auto":
        return choice == "lazy"
    return dense_table_bytes(config, num_rows, max_actions) > AUTO_LAZY_ABOVE_BYTES


def game_uses_lazy_tables(config: Config, game: Game) -> bool:
    return uses_lazy_tables(config, game.num_rows, game.max_actions)
