"""A run's snapshots: written on schedule and on demand, retried when they fail, and the final
one waited for, so that a full disk costs no merged work.

A snapshot copies dense tables between merges (the event loop is single-threaded) and writes
them from a thread. Lazy tables, which can be most of the machine's memory, are never copied:
merges and whole-table passes are held while the thread writes their allocated prefix
straight from shared memory (the deltas that arrive meanwhile wait, and are merged right
after), so a snapshot is consistent and costs no second copy of the tables. Their later
streets' sums, a file that no pass changes once written, are hard-linked in. A failure (a full
disk) frees what retention allows, then degrades the run with the reason and retries with
backoff; the tables stay in memory meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.config.schema import Config
from holdemd.durations import format_bytes
from holdemd.errors import HoldemdError, SnapshotError, SnapshotWriteError
from holdemd.games.compiled import Game
from holdemd.rundir.checksums import sha256_file
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_read import read_manifest
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.rundir.snapshots import LinkedFile, SnapshotInfo, snapshot_info, snapshot_name
from holdemd.rundir.store import make_room, prune_snapshots
from holdemd.solver.lazy_tables import REGRET, STRATEGY, LazyTables
from holdemd.solver.schedule import ScheduleProgress
from holdemd.solver.tables import Tables

log = logging.getLogger("holdemd.snapshots")

RETRY_FIRST = 5.0  # a failed snapshot is tried again after this, doubling ...
RETRY_MAX = 60.0  # ... up to this
WAIT_STEP = 0.1  # how often a wait for the final snapshot checks for a forced exit

ProblemSink = Callable[[str | None], None]  # the snapshot problem's reason, or None: solved
EventSink = Callable[[str, dict[str, Any]], None]


class SnapshotBusy(HoldemdError):
    """A snapshot was asked for while another is being written."""


class Snapshotter:
    def __init__(
        self,
        run_dir: Path,
        config: Config,
        game: Game,
        tables: Tables | LazyTables,
        *,
        sequence: int,
        last: SnapshotInfo | None,
        on_problem: ProblemSink,
        on_event: EventSink,
        progress: Callable[[], ScheduleProgress],
        hold_merges: Callable[[bool], None] = lambda held: None,
    ) -> None:
        self.run_dir = run_dir
        self.config = config
        self.game = game
        self.tables = tables
        self.sequence = sequence  # snapshots written in the run so far; retention keys on it
        self.last = last  # the run's newest snapshot
        self.on_problem = on_problem
        self.on_event = on_event
        self.progress = progress  # the schedule's, recorded as the tables are written
        self.hold_merges = hold_merges  # True: no merge or pass writes the tables until False
        self.in_progress = False
        self.retry_at: float | None = None  # after a failed snapshot: try again then
        self.failures = 0  # snapshot writes that failed in all
        self.failures_in_a_row = 0

    def retry_due(self, now: float) -> bool:
        return self.retry_at is not None and now >= self.retry_at

    async def write(
        self, iteration: int, elapsed: float, num_workers: int, before: Callable[[], None]
    ) -> SnapshotInfo | None:
        """A snapshot of the tables at ``iteration``; None if it could not be written (the
        run is then degraded, and :meth:`retry_due` says when to try again). ``before`` runs
        first (it finishes pending whole-table passes)."""
        name = snapshot_name(iteration)
        if self.last is not None and self.last.name == name:
            return self.last
        if self.in_progress:
            raise SnapshotBusy("a snapshot is being written")
        self.in_progress = True
        try:
            before()
            return await self._write(name, iteration, elapsed, num_workers)
        finally:
            self.in_progress = False

    async def final(
        self,
        iteration: int,
        elapsed: float,
        num_workers: int,
        before: Callable[[], None],
        *,
        forced: Callable[[], bool],
        patience: float | None,
        waiting: Callable[[], None],
    ) -> SnapshotInfo | None:
        """The last snapshot of the run, retried until it is written: the tables stay in
        memory meanwhile, so freeing disk space saves the run. ``forced`` (a second Ctrl-C)
        gives up with KeyboardInterrupt, ``patience`` seconds (a daemon shutdown, which the
        next daemon resumes from the last good snapshot) with SnapshotWriteError; ``waiting``
        runs before each wait (it reports the status)."""
        waited = 0.0
        delay = RETRY_FIRST
        while True:
            while self.in_progress:  # a `holdemctl snapshot` is being written
                await asyncio.sleep(WAIT_STEP)
            info = await self.write(iteration, elapsed, num_workers, before)
            if info is not None:
                return info
            if patience is not None and waited >= patience:
                raise SnapshotWriteError(
                    f"gave up writing the final snapshot after {waited:.0f} s; the last good "
                    f"one is {self.last.path if self.last else 'none'}"
                )
            log.error(
                "the final snapshot could not be written; trying again in %.0f s "
                "(free disk space; Ctrl-C again to exit without it)",
                delay,
            )
            waiting()
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                if forced():
                    raise KeyboardInterrupt
                await asyncio.sleep(WAIT_STEP)
            waited += delay
            delay = min(delay * 2, RETRY_MAX)

    async def _write(
        self, name: str, iteration: int, elapsed: float, num_workers: int
    ) -> SnapshotInfo | None:
        tables = self.tables
        lazy = isinstance(tables, LazyTables)
        linked: dict[str, LinkedFile] = {}
        if isinstance(tables, LazyTables):
            arrays = lazy_snapshot_arrays(tables)
            linked = later_sums_file(tables)
        else:
            arrays = dense_snapshot_arrays(tables)
        manifest = snapshot_manifest(
            self.config,
            self.game,
            iteration=iteration,
            elapsed=elapsed,
            rng_state=0,
            sequence=self.sequence,
        )
        manifest["num_workers"] = num_workers
        # Taken with the tables (``before`` has finished the pending passes): what a resumed
        # run's schedule goes on from.
        manifest["schedule"] = self.progress().manifest()
        if isinstance(tables, LazyTables):
            manifest["tables"] = "lazy"
            if tables.later is not None:
                manifest["later_sums"] = tables.later.manifest()
        cfg = self.config.training
        if lazy:
            self.hold_merges(True)
        try:
            while True:
                try:
                    # overwrite: a snapshot of this name from before a resume is superseded.
                    info = await asyncio.to_thread(
                        write_snapshot,
                        self.run_dir,
                        name,
                        arrays,
                        manifest,
                        overwrite=True,
                        linked=linked,
                    )
                    break
                except SnapshotWriteError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                        freed = await asyncio.to_thread(make_room, self.run_dir, cfg.keep_every)
                        if freed is not None:
                            log.warning("disk full: removed snapshot %s to make room", freed)
                            continue
                    self._failed(exc)
                    return None
        finally:
            if lazy:
                self.hold_merges(False)
        self.sequence += 1
        log.info(
            "snapshot written: %s (%s, %.2f s)", info.path, format_bytes(info.bytes), info.seconds
        )
        self.retry_at = None
        self.failures_in_a_row = 0
        self.on_problem(None)
        with contextlib.suppress(SnapshotWriteError):  # retention waits for the next snapshot
            prune_snapshots(self.run_dir, cfg.keep_snapshots, cfg.keep_every)
        self.last = info
        self.on_event(
            "snapshot",
            {
                "path": str(info.path),
                "iteration": iteration,
                "bytes": info.bytes,
                "seconds": info.seconds,
            },
        )
        return info

    def _failed(self, exc: SnapshotWriteError) -> None:
        """Degrade the run, saying why, and try again soon with backoff; the merged tables
        stay in memory, so nothing is lost unless the process dies before a write works."""
        self.failures += 1
        self.failures_in_a_row += 1
        delay = min(RETRY_FIRST * 2 ** (self.failures_in_a_row - 1), RETRY_MAX)
        self.retry_at = time.monotonic() + delay
        since = f"last good snapshot {self.last.name}" if self.last else "no snapshot yet"
        self.on_problem(f"snapshots failing ({since}): {exc}")
        log.error(
            "%s; the previous snapshot is intact, training goes on, next try in %.0f s",
            exc,
            delay,
        )


def dense_snapshot_arrays(tables: Tables) -> dict[str, np.ndarray]:
    """Copies, taken between merges (the loop is single-threaded), to write from a thread."""
    return {"regret": tables.regret.copy(), "strategy_sum": tables.strategy_sum.copy()}


def lazy_snapshot_arrays(tables: LazyTables) -> dict[str, np.ndarray]:
    """Views of what is allocated, no copies: the caller holds merges while they are written.

    The offsets go whole (8 bytes a node); the arenas only up to their allocated entries.
    """
    return {
        "regret": tables.regret[: int(tables.used[REGRET])],
        "strategy_sum": tables.strategy_sum[: int(tables.used[STRATEGY])],
        "regret_at": tables.regret_at,
        "strategy_at": tables.strategy_at,
    }


def later_sums_file(tables: LazyTables) -> dict[str, LinkedFile]:
    """The later streets' sums file, linked into the snapshot as ``later_sums``; none before
    the first pass has written one."""
    later = tables.later
    if later is None or later.path is None:
        return {}
    digest = later.sha256 or sha256_file(later.path)  # known unless the file came another way
    return {"later_sums": LinkedFile(later.path, later.dtype, (later.entries,), digest)}


def resumed_snapshot(run_dir: Path, source: Path | None) -> SnapshotInfo | None:
    """The snapshot a run resumed from, if it is in this run directory: until training moves
    on it is the run's newest snapshot (a stop right after the resume has nothing to write)."""
    if source is None or source.parent.parent.resolve() != run_dir.resolve():
        return None
    try:
        return snapshot_info(source, read_manifest(source))
    except SnapshotError:
        return None
