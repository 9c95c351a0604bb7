"""A node's replica of the head's regret table, and the work its workers did since the last send.

The node's workers read the replica (shared memory on the node, as on the head) and send their
deltas to the node, which adds each to the replica at once (so they see one another's work,
as workers on one host do) and to ``pending``, the sum of what the head has not been sent yet.
A send takes ``pending`` (one :class:`~holdemd.protocol.hosts.HostDelta`); the head's answer
holds the head's values of rows the replica lacks, which replace the replica's, plus what is
still pending there: a replica is the head's table plus this node's unsent work, and never
drifts from it by more.
"""

from __future__ import annotations

import os

import numpy as np

from holdemd.config.schema import SolverConfig
from holdemd.games.compiled import Game
from holdemd.solver.kernels.pending import accumulate_rows, drain_rows
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.tables import Tables, add_regret_rows
from holdemd.training.shared_tables import SharedTables

ROUNDING_STREAM = (1 << 62) + 1  # the node's own integer-rounding stream (the head's is 1<<62)


class Replica:
    def __init__(self, game: Game, solver: SolverConfig) -> None:
        self.game = game
        self.shared = SharedTables.create(
            Tables.zeros(game, solver.table_dtype, solver.regret_dtype), run_tag=str(os.getpid())
        )
        tables = self.shared.tables
        assert isinstance(tables, Tables)  # the kind multi-host runs keep (dense)
        self.tables = tables
        # Deltas come in the strategy sums' dtype (the workers' buffers): so are the sums.
        delta_dtype = tables.strategy_sum.dtype
        self.pending_regret = np.zeros_like(tables.strategy_sum, dtype=delta_dtype)
        self.pending_strategy = np.zeros_like(tables.strategy_sum, dtype=delta_dtype)
        self.pending = np.zeros(game.num_rows, dtype=bool)
        self.pending_rows = 0  # rows flagged in the dense sums
        # Worker deltas not folded into the dense sums yet. A node sends as each batch comes
        # in, so most sends carry exactly one delta: sent as it came, it costs no pass over
        # the sums (on hunl_mid a pass is 0.15 s of random access per 100,000-iteration batch).
        self.unsent: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.unsent_rows = 0
        self.pending_iterations = 0
        self.rounding = make_rng_state(solver.seed, stream=ROUNDING_STREAM)
        self.floor: float | None = None

    @property
    def pending_bytes(self) -> int:
        """What a send would carry now: rows, regret and strategy."""
        row_bytes = 8 + 2 * self.game.max_actions * self.pending_regret.itemsize
        return (self.pending_rows + self.unsent_rows) * row_bytes  # at most: rows may repeat

    def add(
        self, rows: np.ndarray, regret: np.ndarray, strategy: np.ndarray, iterations: int
    ) -> None:
        """A worker's delta: into the replica now, and pending for the head. (The replica's
        strategy sums are never read: averages are the head's.)"""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        add_regret_rows(self.tables.regret, rows, regret, self.floor, self.rounding)
        self.unsent.append((rows, regret, strategy))
        self.unsent_rows += rows.size
        self.pending_iterations += iterations

    def _fold(self) -> None:
        """Sum the unsent deltas into the dense pending sums."""
        for rows, regret, strategy in self.unsent:
            self.pending_rows += accumulate_rows(
                self.pending_regret, self.pending_strategy, self.pending, rows, regret, strategy
            )
        self.unsent.clear()
        self.unsent_rows = 0

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
        """Everything pending (rows, regret, strategy, iterations), cleared here; and whether
        it is exactly what the replica added with the head's arithmetic (one worker batch into
        float regrets, nothing applied over it since), so that the rows the replica had in sync
        still are after the head merges it."""
        wire = np.int64 if self.game.num_rows > 2**31 - 1 else np.int32
        iterations, self.pending_iterations = self.pending_iterations, 0
        if len(self.unsent) == 1 and self.pending_rows == 0:  # one batch: as it came
            (rows, regret, strategy), self.unsent, self.unsent_rows = self.unsent[0], [], 0
            exact = self.tables.regret.dtype.kind == "f"
            return rows.astype(wire), regret, strategy, iterations, exact
        self._fold()
        rows = np.flatnonzero(self.pending)
        shape = (rows.size, self.pending_regret.shape[1])
        regret = np.empty(shape, dtype=self.pending_regret.dtype)
        strategy = np.empty(shape, dtype=self.pending_strategy.dtype)
        drain_rows(self.pending_regret, self.pending_strategy, self.pending, rows, regret, strategy)
        self.pending_rows = 0
        return rows.astype(wire), regret, strategy, iterations, False

    def apply(self, rows: np.ndarray, values: np.ndarray) -> None:
        """The head's values of ``rows``; this node's work not sent yet stays on top of them."""
        if rows.size == 0:
            return
        regret = self.tables.regret
        regret[rows] = values
        if self.unsent:
            self._fold()
        unsent = rows[self.pending[rows]]
        if unsent.size:
            change = self.pending_regret[unsent].astype(np.float64)
            if regret.dtype.kind == "i":
                info = np.iinfo(regret.dtype)
                updated = np.clip(np.rint(regret[unsent] + change), info.min, info.max)
            else:
                updated = regret[unsent] + change
            if self.floor is not None:
                updated = np.maximum(updated, self.floor)
            regret[unsent] = updated.astype(regret.dtype)

    def clear(self) -> None:
        """A new session: nothing pending (the head dropped it with the old session) and the
        whole table comes again."""
        self.pending_regret[...] = 0
        self.pending_strategy[...] = 0
        self.pending[...] = False
        self.pending_rows = 0
        self.unsent.clear()
        self.unsent_rows = 0
        self.pending_iterations = 0

    def close(self) -> None:
        self.shared.close()
