"""What a run tells the world: status.json (scripts, monitoring) and TensorBoard scalars.

A write that fails (a full disk) is counted and reported as a problem of the run, never
raised: the next write tries again, and training goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.config.schema import TrainingConfig
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.rundir.status import (
    UP_SLOT_STATES,
    RunState,
    RunStatus,
    WorkerStatus,
    utc_now_iso,
    write_status,
)
from holdemd.solver.lazy_tables import LazyTables, allocated_regret
from holdemd.solver.tables import Tables, stored_floor
from holdemd.training import metrics as tags
from holdemd.training.merge import Merger
from holdemd.training.schedule_runner import ScheduleRunner
from holdemd.training.slots import WorkerSlot
from holdemd.training.table_memory import TableMemory, TableMemoryMeter

log = logging.getLogger("holdemd.reporting")

FLOOR_SAMPLE = 1_000_000  # regret entries sampled for the share at the floor

ProblemSink = Callable[[str, str | None], None]  # (source, reason or None: solved)


class StatusFile:
    """``RUN/status.json``, rewritten from a thread; failures counted and reported."""

    def __init__(self, run_dir: Path, on_problem: ProblemSink) -> None:
        self.run_dir = run_dir
        self.on_problem = on_problem
        self.failures = 0
        self._failing = False

    async def write(self, status: RunStatus) -> None:
        try:
            await asyncio.to_thread(write_status, self.run_dir, status)
        except OSError as exc:
            self._failed(exc)
        else:
            self._worked()

    def write_now(self, status: RunStatus) -> None:
        """:meth:`write` without a thread, for the last word of a run."""
        try:
            write_status(self.run_dir, status)
        except OSError as exc:
            self._failed(exc)
        else:
            self._worked()

    def _worked(self) -> None:
        if self._failing:
            self._failing = False
            self.on_problem("status", None)

    def _failed(self, exc: OSError) -> None:
        self.failures += 1
        if not self._failing:
            log.error("cannot write %s: %s; training goes on", self.run_dir / "status.json", exc)
            self._failing = True
        self.on_problem("status", f"cannot write status.json: {exc.strerror or exc}")


class PruningMeter:
    """The share of prunable actions that pruning skipped since the last reading."""

    def __init__(self) -> None:
        self.mark = (0, 0)  # (pruned, prunable) at the last reading

    def fraction(self, slots: list[WorkerSlot]) -> float | None:
        pruned = sum(s.pruned[0] for s in slots), sum(s.pruned[1] for s in slots)
        considered = pruned[1] - self.mark[1]
        skipped = max(0, pruned[0] - self.mark[0])
        self.mark = pruned
        return skipped / considered if considered > 0 else None


def floor_fraction(tables: Tables | LazyTables, floor: float) -> float:
    """The share of regret entries at the floor, from a strided sample of about a million:
    exact for small tables, and a full scan of a 6-max table every few seconds would stall the
    event loop. Lazy tables: of the allocated entries (the rest of the arena is not a table's
    yet)."""
    flat = allocated_regret(tables).reshape(-1)
    sample = flat[:: max(1, flat.size // FLOOR_SAMPLE)]
    at_floor = np.count_nonzero(sample <= stored_floor(tables.regret, floor))
    return at_floor / max(sample.size, 1)


def table_memory_scalars(memory: TableMemory) -> dict[str, float]:
    """The ``tables/*`` scalars of a table memory sample; growth and time left once known."""
    values = {
        tags.TABLES_BYTES: float(memory.bytes),
        tags.TABLES_REGRET_BLOCKS: float(memory.regret_blocks),
        tags.TABLES_STRATEGY_BLOCKS: float(memory.strategy_blocks),
        tags.TABLES_ROWS_ALLOCATED: float(memory.rows),
        tags.TABLES_AVAILABLE_BYTES: float(memory.available_bytes),
    }
    if memory.bytes_per_entry is not None:
        values[tags.TABLES_BYTES_PER_ENTRY] = memory.bytes_per_entry
    if memory.later_sums_bytes:
        values[tags.TABLES_LATER_SUMS_BYTES] = float(memory.later_sums_bytes)
    if memory.growth_bytes_per_h is not None:
        values[tags.TABLES_GROWTH_BYTES_PER_H] = memory.growth_bytes_per_h
    if memory.runs_out_in_s is not None:
        values[tags.TABLES_HOURS_LEFT] = memory.runs_out_in_s / 3600.0
    return values


def worker_scalars(slots: list[WorkerSlot], up: int) -> dict[str, float]:
    values = {
        tags.WORKERS_ALIVE: float(up),
        tags.WORKERS_RESTARTS: float(sum(s.restarts for s in slots)),
    }
    for slot in slots:
        values[tags.worker_iterations_per_s_tag(slot.slot)] = slot.rate
    return values


def worker_statuses(slots: list[WorkerSlot], now: float) -> list[WorkerStatus]:
    """Each slot as status.json shows it."""
    return [
        WorkerStatus(
            slot=s.slot,
            pid=s.pid,
            incarnation=s.incarnation,
            state=s.state,
            iterations=s.merged_iterations,
            iterations_per_s=s.rate,
            last_heartbeat_age_s=now - s.last_message_at if s.last_message_at else None,
            rss_bytes=s.rss_bytes,
            restarts=s.restarts,
            last_error=s.last_error,
            last_traceback=s.last_traceback,
        )
        for s in slots
    ]


def run_status(
    run_id: str,
    state: RunState,
    reason: str | None,
    training: TrainingConfig,
    game: str,
    *,
    iteration: int,
    rate: float,
    elapsed: float,
    slots: list[WorkerSlot],
    last_snapshot: SnapshotInfo | None,
    started_at: str,
    dropped: int,
    write_failures: dict[str, int],
    litmus: dict[str, Any] | None = None,
    table_memory: TableMemoryMeter | None = None,
    hosts: list[dict[str, Any]] | None = None,
) -> RunStatus:
    """The run as status.json and the control socket show it; ``table_memory`` is read
    (sampled at most every ``table_memory.SAMPLE_SECONDS``)."""
    budget = training.time_budget_seconds
    target = training.iterations or None
    remaining = []
    if target and rate > 0:
        remaining.append((target - iteration) / rate)
    if budget is not None:
        remaining.append(budget - elapsed)
    if state == "running" and reason:
        state = "degraded"
    eta = max(0.0, min(remaining)) if remaining else None
    memory = None
    if table_memory is not None:
        memory = table_memory.read(time.monotonic(), ends_in_s=eta).as_dict()
        if state in ("stopping", "finished", "failed"):
            memory["warning"] = None  # a run on its way out grows its tables no more
    snap = last_snapshot
    return RunStatus(
        run_id=run_id,
        state=state,
        reason=reason,
        game=game,
        iterations=iteration,
        iterations_target=target,
        iterations_per_s=rate,
        elapsed_s=elapsed,
        time_budget_s=budget,
        eta_s=eta,
        workers=worker_statuses(slots, time.monotonic()),
        last_snapshot=None
        if snap is None
        else {
            "name": snap.name,
            "path": str(snap.path),
            "iteration": snap.iteration or 0,
            "written_at": snap.written_at or utc_now_iso(),
        },
        pid=os.getpid(),
        started_at=started_at,
        updated_at=utc_now_iso(),
        dropped_messages=dropped,
        write_failures=write_failures,
        litmus=litmus,
        table_memory=memory,
        hosts=hosts,
    )


def run_scalars(
    iteration: int,
    rate: float,
    elapsed: float,
    merger: Merger,
    slots: list[WorkerSlot],
    schedule: ScheduleRunner,
    pruning: PruningMeter,
    table_memory: TableMemoryMeter | None = None,
) -> dict[str, float]:
    """The TensorBoard scalars of a metrics write (see ``metrics`` for the tags); the table
    memory of the latest status (``run_status`` samples it)."""
    up = sum(1 for slot in slots if slot.state in UP_SLOT_STATES)
    values = {
        tags.TRAIN_ITERATIONS: float(iteration),
        tags.TRAIN_ITERATIONS_PER_S: rate,
        tags.TRAIN_DELTA_BYTES_PER_S: merger.delta_bytes / max(elapsed, 1e-9),
        tags.TRAIN_MERGE_LATENCY_MS: 1000 * merger.merge_seconds / max(merger.merges, 1),
        **worker_scalars(slots, up),
        tags.SCHEDULE_DISCOUNTS: float(schedule.discounts),
        tags.SCHEDULE_AVERAGE_SNAPSHOTS: float(schedule.average_snapshots),
    }
    memory = table_memory.latest if table_memory is not None else None
    if memory is not None:
        values.update(table_memory_scalars(memory))
    if merger.touched is not None:
        # A flag per row: fine for dense tables, too big for lazy ones (Merger keeps none),
        # where tables/rows_allocated says how far training reached instead.
        values[tags.TRAIN_INFOSET_ROWS_TOUCHED] = float(merger.touched.sum())
    pruned = pruning.fraction(slots)
    if pruned is not None:
        values[tags.SCHEDULE_PRUNED_FRACTION] = pruned
    if schedule.regret_floor is not None:
        values[tags.SCHEDULE_FLOOR_FRACTION] = floor_fraction(
            schedule.tables, schedule.regret_floor
        )
    return values
