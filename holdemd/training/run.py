"""A training run: worker processes kept busy, their work merged, the result kept safe.

``TrainingRun.run()`` goes startup -> main loop -> shutdown (``loop``). It owns the global
tables (shared memory; it is their only writer; ``run_start`` prepares them and the game), and
the parts that do the work:

``link``             the ZeroMQ socket the workers connect to
``worker_pool``      the worker processes: handshake, reports, hangs, restarts
``merge``            a worker's delta checked and added to the tables
``schedule_runner``  discounts, pruning, averaging (Pluribus's schedule)
``snapshotter``      snapshots, retried when they fail, the final one waited for
``reporting``        status.json and TensorBoard;  ``quality``  exploitability and friends
``litmus``           the sanity scenarios, at every snapshot
``clock``            training time, as the budget counts it

A delta is merged as soon as it arrives: there is no barrier, so a slow worker stalls nobody
(``training.deterministic`` with several workers trades that for repeatable runs: batches in
rounds, merged in slot order; see ``dispatch``).
``holdemd train`` runs it in the foreground, the service (``holdemd serve``) in its event loop;
the service uses only the narrow surface: ``status``, ``pause``, ``resume``, ``request_stop``,
``snapshot_now``, ``healthy`` (carried out by ``run_control``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from holdemd.config.schema import Config
from holdemd.games.compiled import Game
from holdemd.hosts.head import HostsHead, open_head
from holdemd.hosts.ray_placement import RayPlacement
from holdemd.protocol.worker import Delta
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.rundir.status import RunState, RunStatus, utc_now_iso
from holdemd.solver.lazy_tables import dense_strategy_sum
from holdemd.training import run_control
from holdemd.training.clock import TrainingClock
from holdemd.training.dispatch import Dispatcher
from holdemd.training.link import WorkerLink
from holdemd.training.litmus import LitmusChecks
from holdemd.training.loop import run_to_end
from holdemd.training.merge import Merger
from holdemd.training.metrics import MetricsWriter, open_metrics
from holdemd.training.options import (
    EventSink,
    ResumePoint,
    RunOptions,
    TrainingResult,
    no_events,
    worker_spec,
)
from holdemd.training.quality import QualityChecks
from holdemd.training.rate import RateMeter
from holdemd.training.reporting import PruningMeter, StatusFile, run_scalars, run_status
from holdemd.training.run_start import prepare_start
from holdemd.training.schedule_runner import ScheduleRunner
from holdemd.training.slots import WorkerSlot
from holdemd.training.snapshotter import SnapshotBusy, Snapshotter, resumed_snapshot
from holdemd.training.table_memory import TableMemoryMeter
from holdemd.training.worker_pool import PoolOptions, WorkerPool

TICK_SECONDS = 0.1


__all__ = ["ResumePoint", "RunOptions", "SnapshotBusy", "TrainingResult", "TrainingRun"]


class TrainingRun:
    def __init__(
        self,
        config: Config,
        run_dir: Path,
        options: RunOptions,
        *,
        config_source: str = "config",
        resume: ResumePoint | None = None,
        on_event: EventSink = no_events,
        game: Game | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.options = options
        self.on_event = on_event
        start = prepare_start(config, config_source, resume, game)
        self.game = start.game
        self.game_cache = start.cache_entry
        self.run_id = f"{int(time.time())}-{os.getpid()}"
        self.shared = start.shared
        self.tables = self.shared.tables
        self.resumed_from = resume.source if resume else None
        start_iteration = resume.iteration if resume else 0
        self.clock = TrainingClock(resume.elapsed if resume else 0.0)
        self.started_at = utc_now_iso()
        self._state: RunState = "starting"
        # Why the run is degraded, by source ("worker N", "snapshot", "status"); an entry goes
        # when its trouble does (a snapshot that works again clears "snapshot").
        self.problems: dict[str, str] = {}
        self.stop_requested = False
        self.force = False
        self.final_snapshot_patience: float | None = None  # None: retry until it is written
        self.last_tick = time.monotonic()  # the main loop's latest tick: a watchdog reads it
        self.rate = 0.0  # iterations/s over the last ten seconds or so
        self.rate_meter = RateMeter()
        self.schedule = ScheduleRunner(
            config,
            self.game,
            self.tables,
            start.regret_unit,
            elapsed=self.clock.before,
            iteration=start_iteration,
            run_dir=run_dir,
            progress=resume.schedule if resume else None,
        )
        self.merger = Merger(
            self.game,
            self.tables,
            batch_size=config.training.batch_size,
            linear=config.solver.linear_weighting,
            regret_unit=start.regret_unit,
            seed=config.solver.seed,
        )
        self.dispatch = Dispatcher(
            self.run_id,
            WorkerLink(lambda identity, payload: self.dispatch.on_frame(identity, payload)),
            self.merger,
            self.schedule,
            tables=self.shared.handles,
            spec=worker_spec(config, options, str(start.cache_entry or "")),
            iteration=start_iteration,
            target=config.training.iterations,
            elapsed=self.elapsed,
            paused=lambda: self.clock.paused,
            rounds=config.training.deterministic and options.num_workers > 1,
        )
        self.link = self.dispatch.link
        self.pool = self.dispatch.pool = WorkerPool(
            PoolOptions(
                options.num_workers, options.timeouts, options.stop_timeout, options.worker_command
            ),
            self.link,
            greeting=self.dispatch.greeting,
            on_event=on_event,
            on_problem=self._set_problem,
        )
        # A multi-host head opens before anything is written to the run directory: a refused
        # --listen (a lazy game, an address it cannot bind) leaves no run behind.
        self.hosts: HostsHead | None = None
        self.placement: RayPlacement | None = None  # --ray: the nodes placed on a Ray cluster
        if options.listen:
            try:
                self.hosts = open_head(self, options.listen, options.keys)
                if options.ray and options.keys is not None:
                    self.placement = RayPlacement(
                        options.ray, self.hosts, options.keys, self.run_id
                    )
            except BaseException:
                if self.hosts is not None:
                    self.hosts.close()
                self.link.close()
                self.shared.close()
                raise
        self.snapshotter = Snapshotter(
            run_dir,
            config,
            self.game,
            self.tables,
            sequence=resume.sequence + 1 if resume else 0,
            last=resumed_snapshot(run_dir, self.resumed_from),
            on_problem=lambda reason: self._set_problem("snapshot", reason),
            on_event=on_event,
            progress=self.schedule.progress,
            hold_merges=self._hold_merges,
        )
        self.status_file = StatusFile(run_dir, self._set_problem)
        self.metrics: MetricsWriter = open_metrics(
            run_dir / "tensorboard" if config.training.tensorboard else None
        )
        self.quality = QualityChecks(config, self.game, self.metrics)
        self.litmus = LitmusChecks(
            config,
            self.game,
            self.tables,
            self.metrics,
            scenarios=start.scenarios,
            iteration=lambda: self.iteration,
        )
        self.pruning = PruningMeter()
        self.table_memory = TableMemoryMeter(self.game, self.tables)

    # -- the narrow surface --------------------------------------------------------------

    def _hold_merges(self, held: bool) -> None:
        """While a snapshot writes lazy tables from shared memory: nothing may change them."""
        self.schedule.sweeps.held = held
        self.dispatch.hold(held, time.monotonic())

    def dense_strategy_sum(self) -> np.ndarray:
        """The strategy sums as dense rows (lazy tables converted; small games only)."""
        return dense_strategy_sum(self.game, self.tables, "this evaluation")

    @property
    def state(self) -> RunState:
        return self._state

    @state.setter
    def state(self, value: RunState) -> None:
        if value != self._state:
            self._state = value
            self.on_event(
                "state", {"run_id": self.run_id, "state": value, "reason": self.degraded_reason}
            )

    @property
    def degraded_reason(self) -> str | None:
        return "; ".join(self.problems.values()) or None

    @property
    def paused(self) -> bool:
        return self.clock.paused

    @property
    def snapshot_in_progress(self) -> bool:
        return self.snapshotter.in_progress

    def request_stop(self, why: str, *, final_snapshot_patience: float | None = None) -> bool:
        """Stop at the workers' batch boundaries with a final snapshot; False if already asked
        (``run_control.request_stop``)."""
        return run_control.request_stop(self, why, final_snapshot_patience=final_snapshot_patience)

    async def pause(self) -> bool:
        """Workers idle, the budget clock stops; False if already paused (``run_control``)."""
        return await run_control.pause(self)

    async def resume(self) -> bool:
        """Undo :meth:`pause`; False when the run was not paused (``run_control``)."""
        return await run_control.resume(self)

    async def snapshot_now(self) -> SnapshotInfo | None:
        """A snapshot of the merged tables now; None if it failed (``run_control``)."""
        return await run_control.snapshot_now(self)

    def healthy(self, now: float) -> bool:
        """What a watchdog asks: is the main loop ticking (``run_control.healthy``)?"""
        return run_control.healthy(self, now)

    def elapsed(self) -> float:
        return self.clock.elapsed()

    def status(self) -> RunStatus:
        return run_status(
            self.run_id,
            self.state,
            self.degraded_reason,
            self.config.training,
            self.game.name,
            iteration=self.iteration,
            rate=self.rate,
            elapsed=self.elapsed(),
            slots=self.pool.slots,
            last_snapshot=self.snapshotter.last,
            started_at=self.started_at,
            dropped=self.pool.dropped,
            write_failures={
                "status": self.status_file.failures,
                "snapshot": self.snapshotter.failures,
            },
            litmus=self.litmus.summary,
            table_memory=self.table_memory,
            hosts=self.hosts.status() if self.hosts is not None else None,
        )

    # What tests and the service read of the parts, by their old names.

    @property
    def iteration(self) -> int:
        """Iterations merged into the tables so far, the run's resumed ones included."""
        return self.dispatch.iteration

    @property
    def slots(self) -> list[WorkerSlot]:
        return self.pool.slots

    @property
    def endpoint(self) -> str:
        return self.link.endpoint

    @property
    def dropped(self) -> int:
        return self.pool.dropped

    # -- lifecycle -----------------------------------------------------------------------

    async def run(self) -> TrainingResult:
        """Train until the budget is spent or a stop is asked for (``training.loop``)."""
        return await run_to_end(self)

    def close(self) -> None:
        """Release the socket, the shared tables and the metrics writer (``run`` does this
        when it ends; a caller that never runs it calls it itself)."""
        if self.placement is not None:  # first: its nodes still reach the head to leave
            self.placement.close()
            self.placement = None
        if self.hosts is not None:
            self.hosts.close()
        self.schedule.close()
        self.link.close()
        self.shared.close()
        self.metrics.close()

    def merge_delta(self, slot: WorkerSlot, delta: Delta, now: float) -> bool:
        """Merge a worker's delta and acknowledge it (``dispatch``); False if refused."""
        return self.dispatch.merge_delta(slot, delta, now)

    # -- the schedule, metrics, snapshots --------------------------------------------------

    def log_metrics(self) -> None:
        values = run_scalars(
            self.iteration,
            self.rate,
            self.elapsed(),
            self.merger,
            self.pool.slots,
            self.schedule,
            self.pruning,
            self.table_memory,
        )
        if self.hosts is not None:
            values.update(self.hosts.scalars())
        self.metrics.scalars(values, self.iteration)

    def _set_problem(self, source: str, reason: str | None) -> None:
        """Record (or, with None, clear) one source of trouble, telling subscribers."""
        if self.problems.get(source) == reason:
            return
        if reason is None:
            self.problems.pop(source, None)
        else:
            self.problems[source] = reason
        self.on_event(
            "state", {"run_id": self.run_id, "state": self.state, "reason": self.degraded_reason}
        )
