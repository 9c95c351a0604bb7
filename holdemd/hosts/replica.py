"""A node's replica of the head's regret table, and the work its workers did since the last send.

The node's workers read the replica (shared memory on the node, as on the head) and send their
deltas to the node, which adds each to the replica at once (so they see one another's work,
as workers on one host do) and keeps it as pending: what the head has not been sent yet. A send
takes the pending work (one :class:`~holdemd.protocol.hosts.HostDelta`); the head's answer holds
the head's values of rows the replica lacks, which replace the replica's, plus what is still
pending there: a replica is the head's table plus this node's unsent work, and never drifts
from it by more. A discount the head completed is applied to the whole replica before the
answer's values (``scale``): the head does not send a discounted table again.

Two kinds, as the head's tables: `DenseReplica` (every row, ``max_actions`` wide) and
`LazyReplica` (lazily allocated blocks: it holds the head's blocks, and only those, plus the
blocks its own unsent work reached first).
"""

from __future__ import annotations

import os

import numpy as np

from holdemd.config.schema import SolverConfig
from holdemd.games.compiled import Game
from holdemd.solver.kernels.lazy_rows import add_regret_rows as add_lazy_regret_rows
from holdemd.solver.kernels.lazy_rows import write_rows
from holdemd.solver.kernels.pending import accumulate_rows, drain_rows
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.lazy_tables import REGRET, LazyTables, NodeBlocks, compact_entries
from holdemd.solver.tables import (
    ROWS_PER_CHUNK,
    TABLE_DTYPES,
    Tables,
    add_regret_rows,
    integer_regrets,
    scale_rows,
    stored_floor,
)
from holdemd.training.shared_tables import SharedTables

SCALE_CHUNK = ROWS_PER_CHUNK  # rows of a dense table, entries of a lazy arena, per slice
ROUNDING_STREAM = (1 << 62) + 1  # the node's own integer-rounding stream (the head's is 1<<62)

Taken = tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]  # rows, regret, strategy, its, exact


class Replica:
    """What both kinds share: the shared tables, the unsent worker deltas, the floor."""

    def __init__(self, game: Game, solver: SolverConfig, shared: SharedTables) -> None:
        self.game = game
        self.shared = shared
        self.delta_dtype = TABLE_DTYPES[solver.table_dtype]  # the workers' delta buffers'
        # Worker deltas not sent (nor, for dense replicas, folded into the pending sums) yet.
        # A node sends as each batch comes in, so most sends carry exactly one delta, as it came.
        self.unsent: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.unsent_rows = 0
        self.pending_iterations = 0
        self.rounding = make_rng_state(solver.seed, stream=ROUNDING_STREAM)
        self.floor: float | None = None

    @property
    def regret(self) -> np.ndarray:
        return self.shared.tables.regret

    @property
    def tables(self) -> Tables | LazyTables:
        return self.shared.tables

    @property
    def allocated_bytes(self) -> int:
        """Memory of the replica's table (a lazy one's allocated blocks and offsets)."""
        tables = self.shared.tables
        if isinstance(tables, LazyTables):
            return int(tables.used[REGRET] * tables.regret.itemsize + tables.regret_at.nbytes)
        return int(tables.regret.nbytes)

    @property
    def row_bytes(self) -> int:
        return 8 + 2 * self.game.max_actions * np.dtype(self.delta_dtype).itemsize

    @property
    def pending_bytes(self) -> int:
        """What a send would carry now, at most (rows may repeat): rows, regret and strategy."""
        return self.unsent_rows * self.row_bytes

    @property
    def wire_rows(self) -> type[np.signedinteger]:
        return np.int64 if self.game.num_rows > 2**31 - 1 else np.int32

    def add(
        self, rows: np.ndarray, regret: np.ndarray, strategy: np.ndarray, iterations: int
    ) -> None:
        """A worker's delta: into the replica now, and pending for the head. (The replica's
        strategy sums are never read: averages are the head's.)"""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        self._add_regret(rows, regret)
        self.unsent.append((rows, regret, strategy))
        self.unsent_rows += rows.size
        self.pending_iterations += iterations

    @property
    def exact_batches(self) -> bool:
        """Whether one worker batch sent as it came is exact: the replica added it with the
        head's arithmetic (float regrets), so rows it had in sync stay so after the head
        merges it."""
        return self.regret.dtype.kind == "f"

    def clear(self) -> None:
        """A new session: nothing pending (the head dropped it with the old session) and the
        whole table comes again."""
        self.unsent.clear()
        self.unsent_rows = 0
        self.pending_iterations = 0

    def close(self) -> None:
        self.shared.close()

    def _add_regret(self, rows: np.ndarray, regret: np.ndarray) -> None:
        raise NotImplementedError

    def take(self) -> Taken:
        """Everything pending (rows, regret, strategy, iterations), cleared here, and whether
        it is exact (`exact_batches`)."""
        raise NotImplementedError

    def apply(self, rows: np.ndarray, values: np.ndarray) -> None:
        """The head's values of ``rows`` (ascending); this node's unsent work stays on top.
        Raises ValueError, having written nothing, for values that do not fit the game."""
        raise NotImplementedError

    def _check_rows(self, rows: np.ndarray) -> None:
        if rows.size and (int(rows.max()) >= self.game.num_rows or int(rows.min()) < 0):
            raise ValueError(f"rows beyond the game's {self.game.num_rows:,}")
        if rows.size > 1 and not (rows[1:] > rows[:-1]).all():
            raise ValueError("rows must ascend")

    def scale(self, factor: float) -> None:
        """A regret discount the head completed (every entry x ``factor``, as the head's pass),
        in slices: an int32 table is scaled through a float64 copy of each."""
        end = self._filled()
        for lo in range(0, end, SCALE_CHUNK):
            scale_rows(self.regret, lo, min(lo + SCALE_CHUNK, end), factor)

    def _filled(self) -> int:
        """How far the regret table holds values (a dense table's rows, a lazy arena's entries)."""
        raise NotImplementedError


class DenseReplica(Replica):
    def __init__(self, game: Game, solver: SolverConfig) -> None:
        dense = Tables.zeros(game, solver.table_dtype, solver.regret_dtype)
        # Workers never read the strategy sums: a node keeps none (an empty table of the dtype).
        dense = Tables(regret=dense.regret, strategy_sum=dense.strategy_sum[:0])
        super().__init__(game, solver, SharedTables.create(dense, run_tag=str(os.getpid())))
        shape = dense.regret.shape
        self.pending_regret = np.zeros(shape, dtype=self.delta_dtype)
        self.pending_strategy = np.zeros(shape, dtype=self.delta_dtype)
        self.pending = np.zeros(game.num_rows, dtype=bool)
        self.pending_rows = 0  # rows flagged in the dense sums

    @property
    def pending_bytes(self) -> int:
        return (self.pending_rows + self.unsent_rows) * self.row_bytes

    def _add_regret(self, rows: np.ndarray, regret: np.ndarray) -> None:
        add_regret_rows(self.regret, rows, regret, self.floor, self.rounding)

    def _fold(self) -> None:
        """Sum the unsent deltas into the dense pending sums (on hunl_mid a pass is 0.15 s of
        random access per 100,000-iteration batch: done only when more than one is unsent)."""
        for rows, regret, strategy in self.unsent:
            self.pending_rows += accumulate_rows(
                self.pending_regret, self.pending_strategy, self.pending, rows, regret, strategy
            )
        self.unsent.clear()
        self.unsent_rows = 0

    def take(self) -> Taken:
        iterations, self.pending_iterations = self.pending_iterations, 0
        if len(self.unsent) == 1 and self.pending_rows == 0:  # one batch: as it came
            exact = self.exact_batches
            (rows, regret, strategy), self.unsent, self.unsent_rows = self.unsent[0], [], 0
            return rows.astype(self.wire_rows), regret, strategy, iterations, exact
        self._fold()
        rows = np.flatnonzero(self.pending)
        shape = (rows.size, self.game.max_actions)
        regret = np.empty(shape, dtype=self.pending_regret.dtype)
        strategy = np.empty(shape, dtype=self.pending_strategy.dtype)
        drain_rows(self.pending_regret, self.pending_strategy, self.pending, rows, regret, strategy)
        self.pending_rows = 0
        return rows.astype(self.wire_rows), regret, strategy, iterations, False

    def apply(self, rows: np.ndarray, values: np.ndarray) -> None:
        if rows.size == 0:
            return
        self._check_rows(rows)
        if values.shape != (rows.size, self.game.max_actions):
            raise ValueError(f"values of shape {values.shape} for {rows.size} rows")
        regret = self.regret
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

    def _filled(self) -> int:
        return self.game.num_rows

    def clear(self) -> None:
        super().clear()
        self.pending_regret[...] = 0
        self.pending_strategy[...] = 0
        self.pending[...] = False
        self.pending_rows = 0


class LazyReplica(Replica):
    """A replica of lazily allocated tables: blocks allocated as the head's values or this
    node's workers' deltas reach them (arenas sized for every block, which costs memory only
    where written, as on the head); pending work is the unsent deltas themselves."""

    def __init__(self, game: Game, solver: SolverConfig) -> None:
        empty = LazyTables.zeros(game, solver.table_dtype, solver.regret_dtype, capacity=0)
        shared = SharedTables.create(
            empty, run_tag=str(os.getpid()), capacity=compact_entries(game)
        )
        super().__init__(game, solver, shared)
        self.blocks = NodeBlocks.of(game)

    @property
    def tables(self) -> LazyTables:
        tables = self.shared.tables
        assert isinstance(tables, LazyTables)
        return tables

    def _lower(self) -> float:
        return float(stored_floor(self.regret, self.floor))

    def _add_regret(self, rows: np.ndarray, regret: np.ndarray) -> None:
        tables = self.tables
        add_lazy_regret_rows(
            tables.regret,
            tables.regret_at,
            tables.used,
            self.blocks.kernel_arrays(),
            self.blocks.node_index(rows),
            rows,
            regret,
            self._lower(),
            integer_regrets(tables.regret),
            self.rounding,
        )

    def take(self) -> Taken:
        iterations, self.pending_iterations = self.pending_iterations, 0
        unsent, self.unsent, self.unsent_rows = self.unsent, [], 0
        width = self.game.max_actions
        if not unsent:
            empty = np.zeros((0, width), dtype=self.delta_dtype)
            return np.zeros(0, dtype=self.wire_rows), empty, empty.copy(), iterations, False
        if len(unsent) == 1:
            rows, regret, strategy = unsent[0]
            return rows.astype(self.wire_rows), regret, strategy, iterations, self.exact_batches
        # Several batches: one row each, summed (the head's merge takes distinct rows).
        rows = np.concatenate([u[0] for u in unsent])
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        regret = np.add.reduceat(np.concatenate([u[1] for u in unsent])[order], starts, axis=0)
        strategy = np.add.reduceat(np.concatenate([u[2] for u in unsent])[order], starts, axis=0)
        return rows[starts].astype(self.wire_rows), regret, strategy, iterations, False

    def apply(self, rows: np.ndarray, values: np.ndarray) -> None:
        if rows.size == 0:
            return
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        self._check_rows(rows)
        index = self.blocks.node_index(rows)
        if values.ndim != 1 or values.size != int(self.blocks.num_actions[index].sum()):
            raise ValueError(
                f"{values.size} values do not fit the legal actions of {rows.size} rows"
            )
        pending = np.zeros(rows.size, dtype=bool)
        change = np.zeros((rows.size if self.unsent else 0, self.game.max_actions))
        for unsent_rows, regret, _ in self.unsent:
            at = np.minimum(np.searchsorted(rows, unsent_rows), rows.size - 1)
            hit = rows[at] == unsent_rows
            np.add.at(change, at[hit], regret[hit])
            pending[at[hit]] = True
        tables = self.tables
        write_rows(
            tables.regret,
            tables.regret_at,
            tables.used,
            self.blocks.kernel_arrays(),
            index,
            rows,
            values,
            change,
            pending,
            self._lower(),
            integer_regrets(tables.regret),
        )

    def _filled(self) -> int:
        return int(self.tables.used[REGRET])  # never past it: a written page takes memory


def open_replica(game: Game, solver: SolverConfig, lazy: bool) -> Replica:
    """The replica of the head's tables: lazy if the head's are."""
    return LazyReplica(game, solver) if lazy else DenseReplica(game, solver)
