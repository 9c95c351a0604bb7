"""What is done to a running `TrainingRun` from outside its main loop: a stop asked for, a
pause and its resume, a snapshot now; and the watchdog's question, is it healthy.

The service's commands and ``holdemd train``'s signals reach these through the run's narrow
surface (``TrainingRun.request_stop``, ``pause``, ``resume``, ``snapshot_now``, ``healthy``);
how the run goes between them is ``loop``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from holdemd.protocol.worker import Pause, Resume
from holdemd.rundir.snapshots import SnapshotInfo

if TYPE_CHECKING:
    from holdemd.training.run import TrainingRun

log = logging.getLogger("holdemd.supervisor")

STUCK_SECONDS = 30.0  # the main loop silent this long (and not snapshotting): unhealthy


def request_stop(
    run: TrainingRun, why: str, *, final_snapshot_patience: float | None = None
) -> bool:
    """Stop at the workers' batch boundaries with a final snapshot; False if already asked.

    ``final_snapshot_patience``: give up a final snapshot that keeps failing after this
    many seconds (a daemon shutdown, which systemd would otherwise kill)."""
    if final_snapshot_patience is not None:
        run.final_snapshot_patience = final_snapshot_patience
    if run.stop_requested:
        return False
    run.stop_requested = True
    log.info("stop requested (%s): finishing the batches and writing a final snapshot", why)
    return True


async def pause(run: TrainingRun) -> bool:
    """Workers finish their batch, send it and idle; the budget clock stops.

    Returns False when the run was already paused (nothing changed).
    """
    if run.clock.paused:
        return False
    run.clock.pause()
    run.pool.broadcast(Pause())
    if run.state == "running":
        run.state = "paused"
    log.info("paused at iteration %s; the time budget clock is stopped", f"{run.iteration:,}")
    await run.status_file.write(run.status())
    return True


async def resume(run: TrainingRun) -> bool:
    """Undo :func:`pause`; False when the run was not paused."""
    if not run.clock.paused:
        return False
    run.clock.resume()
    run.pool.resume_progress(time.monotonic())
    run.pool.broadcast(Resume())
    if run.state == "paused":
        run.state = "running"
    log.info("resumed at iteration %s", f"{run.iteration:,}")
    await run.status_file.write(run.status())
    return True


async def snapshot_now(run: TrainingRun) -> SnapshotInfo | None:
    """Write a snapshot of the merged tables now (on schedule, and the service's
    ``snapshot`` command); None if it could not be written (the run is then degraded)."""
    info = await run.snapshotter.write(
        run.iteration, run.elapsed(), len(run.pool.slots), run.schedule.finish
    )
    if info is not None:
        run.litmus.start(info.name)
    return info


def healthy(run: TrainingRun, now: float) -> bool:
    """The main loop ticks (or the run is between phases, or writing a snapshot, which take
    as long as they take): what a watchdog asks."""
    if run.state not in ("running", "paused", "degraded"):
        return True
    return run.snapshot_in_progress or now - run.last_tick < STUCK_SECONDS
