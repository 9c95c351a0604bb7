"""The schedule applied to a run (Pluribus's: discounts, pruning, averaging; solver.schedule).

The supervisor is the tables' only writer and runs this between merges, so no update is lost
or half-scaled. Whole-table passes (a discount, a current-strategy snapshot for the later
streets' average) go through ``sweeps`` in time slices; what workers need (pruning, which
streets keep strategy sums) goes to them as a ``Settings`` message when it changes. Lazy
tables keep the later streets' sums in a file of the run directory (``solver.later_sums``),
which a snapshot pass rewrites (``later_sums_pass``) and a discount only notes.

Its snapshots record how far it got (``progress``: where it was last checked, the averaging
snapshots made), and a resumed run goes on from there: an event that came due after the last
check (a stopping run's clock runs past its last tick) is applied after the resume instead of
counted as done, and a run that has averaged gets no end-of-run snapshot in a later segment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.config.schema import Config
from holdemd.durations import format_duration
from holdemd.games.compiled import Game
from holdemd.protocol.worker import Settings
from holdemd.rundir.later_sums import LATER_SUMS_DIR, adopt
from holdemd.solver.later_sums import LaterSums
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks
from holdemd.solver.schedule import Schedule, ScheduleProgress, parse_clock
from holdemd.solver.tables import Tables, normalize_block, row_num_actions, scale_rows
from holdemd.training.later_sums_pass import LaterSumsPass
from holdemd.training.sweeps import TableSweeps

log = logging.getLogger("holdemd.schedule")

SWEEP_STEP_SECONDS = 0.005  # whole-table passes advance this long after each merge and tick


class ScheduleRunner:
    def __init__(
        self,
        config: Config,
        game: Game,
        tables: Tables | LazyTables,
        regret_unit: float,
        *,
        elapsed: float,
        iteration: int,
        run_dir: Path,
        progress: ScheduleProgress | None = None,
    ) -> None:
        """A run at (``elapsed``, ``iteration``); a resumed one goes on from its snapshot's
        ``progress`` (None: a new run, or a snapshot from before the record, whose schedule
        counts everything before its position as done)."""
        self.config = config
        self.game = game
        self.tables = tables
        self.regret_unit = regret_unit
        self.checked = (progress.elapsed, progress.iteration) if progress else (elapsed, iteration)
        self.schedule = build_schedule(config, game, *self.checked, regret_unit)
        self.sweeps = TableSweeps(game.num_rows)
        self.settings = self.schedule.worker_settings(elapsed, iteration)
        averaging = self.schedule.snapshot_averaging
        # Lazy tables (6-max games: hundreds of millions of rows) keep nothing per row.
        lazy = isinstance(tables, LazyTables)
        self.blocks = NodeBlocks.of(game) if lazy else None
        self.later_rows = row_streets(game) > 0 if averaging and not lazy else None
        self.row_actions = row_num_actions(game) if averaging and not lazy else None
        self.later_dir = run_dir / LATER_SUMS_DIR
        if isinstance(tables, LazyTables):
            if tables.later is not None:  # resumed: the snapshot's file becomes the run's
                tables.later = adopt(tables.later, run_dir)
            elif averaging:
                tables.later = LaterSums.empty(tables.strategy_sum.dtype, game.max_actions)
        self.discounts = 0  # applied by this process
        # Queued in the whole run: only a run that never averaged gets one at its end.
        self.average_snapshots = (
            progress.average_snapshots if progress else self._average_snapshots_before()
        )
        # Told when a regret discount starts changing the table and, with its factor, when it
        # is done (extra hosts' replicas apply it themselves: ``hosts.head``).
        self.on_discount_started: Callable[[], None] | None = None
        self.on_discount_done: Callable[[float], None] | None = None

    @property
    def regret_floor(self) -> float | None:
        return self.schedule.regret_floor

    @property
    def counts_iterations(self) -> bool:
        """Some point is an iteration count: check after each merge, not only each tick."""
        return self.schedule.counts_iterations

    def _average_snapshots_before(self) -> int:
        """A snapshot without a record: what its sums file counts (lazy tables), else the
        points behind it (the end-of-run snapshot of a run that reached none is unknown)."""
        later = self.tables.later if isinstance(self.tables, LazyTables) else None
        return max(self.schedule.snapshots_done, later.passes if later is not None else 0)

    def progress(self) -> ScheduleProgress:
        """What a snapshot records: once the pending passes are finished, the tables hold
        every event due by the last check."""
        return ScheduleProgress(*self.checked, self.average_snapshots)

    def apply(self, elapsed: float, iteration: int) -> Settings | None:
        """Queue the events due now; return the workers' new settings if they changed."""
        self.checked = (elapsed, iteration)
        factor = self.schedule.discount_due(elapsed, iteration)
        if factor is not None:
            self.queue_discount(factor)
            self.discounts += 1
            log.info(
                "linear-CFR discount %d at iteration %s (%s): regrets and strategy sums x %.4f",
                self.schedule.discounts_done,
                f"{iteration:,}",
                format_duration(elapsed),
                factor,
            )
        changed = None
        settings = self.schedule.worker_settings(elapsed, iteration)
        if settings != self.settings:
            if settings.prune_probability > 0 and self.settings.prune_probability == 0:
                log.info(
                    "negative-regret pruning on at iteration %s: %.0f%% of iterations skip "
                    "actions with regret below %g (%g x the utility scale)",
                    f"{iteration:,}",
                    100 * settings.prune_probability,
                    settings.prune_threshold / self.regret_unit,
                    self.config.schedule.prune_threshold,
                )
            self.settings = settings
            changed = settings
        if self.schedule.average_snapshot_due(elapsed, iteration):
            self.queue_average_snapshot(iteration)
        self.step()
        return changed

    def step(self) -> None:
        """Advance a pending whole-table pass by a slice (after a merge, on a tick)."""
        self.sweeps.step(SWEEP_STEP_SECONDS)

    def finish(self) -> None:
        """Complete every pending pass: a snapshot must not see one half applied."""
        self.sweeps.finish()

    def close(self) -> None:
        """Abandon pending passes (the run ends): a half-written sums file is removed."""
        self.sweeps.close()

    def before_the_end(self, iteration: int) -> None:
        """A short run with first-round averaging: later streets must not stay uniform. Once
        per run: a resumed segment that reaches no point adds none to the snapshots it has."""
        if self.schedule.snapshot_averaging and self.average_snapshots == 0:
            self.queue_average_snapshot(iteration)
        self.finish()

    def queue_discount(self, factor: float) -> None:
        tables = self.tables
        if isinstance(tables, LazyTables):
            if tables.later is not None:  # noted in order with the passes around it
                self.sweeps.add(partial(self._discount_later, factor), 1)
            # Over the allocated entries of both arenas; blocks allocated meanwhile start at
            # zero-plus-merges, like rows the dense pass has not reached yet.
            entries = int(tables.used.max())
            self.sweeps.add(partial(self._discount_entries, factor, entries), entries)
        else:
            self.sweeps.add(partial(self._discount_rows, factor))

    def queue_average_snapshot(self, iteration: int) -> None:
        self.average_snapshots += 1
        if isinstance(self.tables, LazyTables):
            assert self.blocks is not None
            sweep = LaterSumsPass(self.tables, self.blocks, self.later_dir, self.average_snapshots)
            self.sweeps.add_pass(sweep)
        else:
            self.sweeps.add(self._average_snapshot_rows)
        log.info(
            "current-strategy snapshot %d for later streets' average at iteration %s",
            self.average_snapshots,
            f"{iteration:,}",
        )

    def _discount_rows(self, factor: float, lo: int, hi: int) -> None:
        self._discount_slice(lo == 0)
        scale_rows(self.tables.regret, lo, hi, factor)
        scale_rows(self.tables.strategy_sum, lo, hi, factor)
        self._discount_slice_done(hi >= self.game.num_rows, factor)

    def _discount_entries(self, factor: float, size: int, lo: int, hi: int) -> None:
        """Lazy tables: entries ``lo:hi`` of both arenas, never past what is allocated (an
        unallocated page written, even with zeros, would take memory)."""
        tables = self.tables
        assert isinstance(tables, LazyTables)
        self._discount_slice(lo == 0)
        for table, used in ((tables.regret, tables.used[0]), (tables.strategy_sum, tables.used[1])):
            scale_rows(table, lo, min(hi, int(used)), factor)
        self._discount_slice_done(hi >= size, factor)

    def _discount_slice(self, first: bool) -> None:
        if first and self.on_discount_started is not None:
            self.on_discount_started()

    def _discount_slice_done(self, last: bool, factor: float) -> None:
        if last and self.on_discount_done is not None:
            self.on_discount_done(factor)

    def _discount_later(self, factor: float, lo: int, hi: int) -> None:
        tables = self.tables
        assert isinstance(tables, LazyTables) and tables.later is not None
        tables.later = tables.later.discounted(factor)

    def _average_snapshot_rows(self, lo: int, hi: int) -> None:
        """Add the current strategy of later-street rows to their strategy sums: with
        ``average: first_round`` those rows hold the sum of such snapshots, which the average
        strategy normalizes into their mean."""
        assert self.later_rows is not None and self.row_actions is not None
        rows = self.later_rows[lo:hi]
        if rows.any():
            columns = np.arange(self.game.max_actions)[None, :]
            legal = columns < self.row_actions[lo:hi][rows][:, None]
            current = normalize_block(self.tables.regret[lo:hi][rows], legal)
            strategy_sum = self.tables.strategy_sum
            strategy_sum[lo:hi][rows] += current.astype(strategy_sum.dtype)


def build_schedule(
    config: Config, game: Game, elapsed: float, iteration: int, unit: float = 1.0
) -> Schedule:
    """The run's schedule; ``unit`` is the regret table's units per unit of utility."""
    cfg = config.schedule

    def clock(value: float | str | None) -> Any:
        return None if value is None else parse_clock(value)

    return Schedule(
        discount_interval=clock(cfg.discount_interval),
        discount_stop=clock(cfg.discount_stop),
        prune_start=clock(cfg.prune_start),
        prune_probability=cfg.prune_probability,
        prune_threshold=cfg.prune_threshold,
        regret_floor=cfg.regret_floor,
        average=cfg.average,
        average_interval=parse_clock(cfg.average_interval),
        utility_scale=game.utility_scale,
        regret_unit=unit,
        num_streets=int(game.arrays.street_buckets.shape[0]),
        elapsed=elapsed,
        iteration=iteration,
    )


def row_streets(game: Game) -> np.ndarray:
    """int8[rows]: the betting round of each infoset row."""
    arrays = game.arrays
    nodes = np.flatnonzero(arrays.node_row_base >= 0)
    streets = arrays.node_street[nodes].astype(np.int64)
    counts = arrays.street_buckets[streets]
    starts = arrays.node_row_base[nodes]
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    result = np.zeros(game.num_rows, dtype=np.int8)
    result[np.repeat(starts, counts) + offsets] = np.repeat(streets, counts)
    return result
