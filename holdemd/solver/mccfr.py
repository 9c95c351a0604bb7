"""External-sampling MCCFR driver: owns the tables, generator and scratch for the kernel.

In place (single process) it calls the kernel on its own tables. A worker process instead
points it at the shared, read-only global tables and drains a `DeltaBuffer` after each batch;
`apply_delta` is the supervisor's side of that exchange.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.kernels.external_sampling import run_iterations
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.kernels.table_access import (
    DeltaBuffer,
    HashedDeltaBuffer,
    LazyLiveTables,
    LiveTables,
    make_delta_buffer,
    no_delta_buffer,
)
from holdemd.solver.kernels.traversal_args import (
    COUNTER_DROPPED,
    COUNTER_NODES,
    COUNTER_PRUNABLE,
    COUNTER_PRUNED,
    NUM_COUNTERS,
    batch_settings,
    make_workspace,
)
from holdemd.solver.lazy_tables import LazyTables
from holdemd.solver.tables import (
    Tables,
    average_strategy,
    current_strategy,
    merge_rows,
    regret_unit,
)

AnyDeltaBuffer = DeltaBuffer | HashedDeltaBuffer
_ROUNDING = make_rng_state(0, stream=1)  # apply_delta's default, for integer regret tables


TablesT = TypeVar("TablesT", bound=Tables | LazyTables)


class ExternalSamplingMCCFR(Generic[TablesT]):
    """Runs MCCFR iterations on ``tables``; ``iteration`` counts the iterations done so far."""

    def __init__(
        self,
        game: Game,
        tables: TablesT,
        *,
        seed: int,
        stream: int = 0,
        linear: bool = False,
        iteration: int = 0,
    ) -> None:
        self.game = game
        self.tables: TablesT = tables
        self.linear = linear
        self.iteration = iteration
        self.rng = make_rng_state(seed, stream)
        self.workspace = make_workspace(game.arrays, game.max_actions)
        self.counters = np.zeros(NUM_COUNTERS, dtype=np.int64)
        # The schedule's knobs (holdemd.solver.schedule); the defaults change nothing.
        self.prune_probability = 0.0
        self.prune_threshold = 0.0  # in table units
        self.average_streets = 127  # accumulate strategy sums on every street
        # Changes are floats in the regret table's units, even for an integer table.
        self.regret_unit = regret_unit(tables.regret.dtype, game.utility_scale)
        self._no_delta = no_delta_buffer(game.max_actions, tables.strategy_sum.dtype)
        self._layout = table_layout(game, tables)

    @property
    def nodes_visited(self) -> int:
        return int(self.counters[COUNTER_NODES])

    @property
    def pruned_actions(self) -> tuple[int, int]:
        """(actions skipped by pruning, actions at nodes where pruning was allowed)."""
        return int(self.counters[COUNTER_PRUNED]), int(self.counters[COUNTER_PRUNABLE])

    @property
    def dropped_updates(self) -> int:
        return int(self.counters[COUNTER_DROPPED])

    def run(self, iterations: int) -> int:
        """Run ``iterations`` iterations, updating the tables in place."""
        return self._run(self._no_delta, self._no_delta, True, iterations)

    def new_delta_buffer(self, capacity: int | None = None) -> AnyDeltaBuffer:
        rows = self.game.num_rows
        return make_delta_buffer(
            rows, self.game.max_actions, capacity or rows, self.tables.strategy_sum.dtype
        )

    def run_into(
        self, delta: AnyDeltaBuffer, iterations: int, inflight: AnyDeltaBuffer | None = None
    ) -> int:
        """Run up to ``iterations`` iterations reading the tables, writing changes to ``delta``.

        ``inflight`` holds changes already sent but not yet merged into the tables; they are
        read as part of the tables. Returns the iterations run; fewer than asked when the
        buffer filled up.
        """
        return self._run(delta, inflight or self._no_delta, False, iterations)

    def _run(
        self, delta: AnyDeltaBuffer, inflight: AnyDeltaBuffer, in_place: bool, iterations: int
    ) -> int:
        kind = LazyLiveTables if isinstance(self.tables, LazyTables) else LiveTables
        tables = kind(*self._layout, delta, inflight, in_place)
        settings = batch_settings(
            self.iteration,
            linear=self.linear,
            regret_unit=self.regret_unit,
            prune_probability=self.prune_probability,
            prune_threshold=self.prune_threshold,
            average_streets=self.average_streets,
        )
        done = int(
            run_iterations(
                self.game.arrays,
                tables,
                settings,
                iterations,
                self.rng,
                self.workspace,
                self.counters,
            )
        )
        self.iteration += done
        return done

    def dense_tables(self) -> Tables:
        """The tables in the dense layout (lazy ones converted: small games only)."""
        if isinstance(self.tables, LazyTables):
            return self.tables.to_dense(self.game)
        return self.tables

    def average_policy(self) -> np.ndarray:
        return average_strategy(self.game, self.dense_tables().strategy_sum)

    def current_policy(self) -> np.ndarray:
        return current_strategy(self.game, self.dense_tables().regret)


def table_layout(
    game: Game, tables: Tables | LazyTables
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """The first six fields of the kernel's ``LiveTables`` for either kind of tables: flat
    arenas, where each node's block starts in them, the row stride and the allocation counts.

    Dense tables are read as arenas with every block allocated, rows ``max_actions`` wide.
    """
    if isinstance(tables, LazyTables):
        return (
            tables.regret,
            tables.strategy_sum,
            tables.regret_at,
            tables.strategy_at,
            0,
            tables.used,
        )
    unused = np.zeros(0, dtype=np.int64)
    size = tables.regret.size
    return (
        tables.regret.reshape(-1),
        tables.strategy_sum.reshape(-1),
        unused,
        unused,
        game.max_actions,
        np.array([size, size], dtype=np.int64),
    )


def apply_delta(tables: Tables, delta: AnyDeltaBuffer, rng: np.ndarray | None = None) -> int:
    """Add a buffer's changes to the tables and empty it; returns the rows merged.

    ``rng`` (a uint64[1] generator state) rounds changes to an integer regret table (see
    ``tables.add_to_regrets``).
    """
    count = int(delta.used[0])
    merged = merge_rows(
        tables,
        delta.rows[:count],
        delta.regret[:count],
        delta.strategy[:count],
        None,
        _ROUNDING if rng is None else rng,
    )
    if not merged:
        raise ValueError("the delta would make the tables non-finite")
    clear_delta(delta)
    return count


def clear_delta(delta: AnyDeltaBuffer) -> None:
    count = int(delta.used[0])
    if isinstance(delta, HashedDeltaBuffer):
        if count:
            delta.hash_rows[:] = -1
    else:
        delta.slot_of_row[delta.rows[:count]] = -1
    delta.regret[:count] = 0
    delta.strategy[:count] = 0
    delta.used[:] = 0
