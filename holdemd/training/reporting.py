"""What a run tells the world: status.json (scripts, monitoring) and TensorBoard scalars.

A write that fails (a full disk) is counted and reported as a problem of the run, never
raised: the next write tries again, and training goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from holdemd.rundir.status import RunStatus, write_status
from holdemd.solver.tables import stored_floor
from holdemd.training import metrics as tags
from holdemd.training.slots import WorkerSlot

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


def floor_fraction(regret: np.ndarray, floor: float) -> float:
    """The share of regret entries at the floor, from a strided sample of about a million:
    exact for small tables, and a full scan of a 6-max table every few seconds would stall the
    event loop."""
    flat = regret.reshape(-1)
    sample = flat[:: max(1, flat.size // FLOOR_SAMPLE)]
    at_floor = np.count_nonzero(sample <= stored_floor(regret, floor))
    return at_floor / max(sample.size, 1)


def worker_scalars(slots: list[WorkerSlot], up: int) -> dict[str, float]:
    values = {
        tags.WORKERS_ALIVE: float(up),
        tags.WORKERS_RESTARTS: float(sum(s.restarts for s in slots)),
    }
    for slot in slots:
        values[tags.worker_iterations_per_s_tag(slot.slot)] = slot.rate
    return values
