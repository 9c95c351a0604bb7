"""A training run: worker processes kept busy, their work merged, the result kept safe.

``TrainingRun.run()`` goes startup -> main loop -> shutdown. It owns the global tables (shared
memory; it is their only writer), and the parts that do the work:

``link``             the ZeroMQ socket the workers connect to
``worker_pool``      the worker processes: handshake, reports, hangs, restarts
``merge``            a worker's delta checked and added to the tables
``schedule_runner``  discounts, pruning, averaging (Pluribus's schedule)
``snapshotter``      snapshots, retried when they fail, the final one waited for
``reporting``        status.json and TensorBoard;  ``quality``  exploitability and friends
``clock``            training time, as the budget counts it

A delta is merged as soon as it arrives: there is no barrier, so a slow worker stalls nobody.
``holdemd train`` runs it in the foreground, the service (``holdemd serve``) in its event loop;
the service uses only the narrow surface: ``status``, ``pause``, ``resume``, ``request_stop``,
``snapshot_now``, ``healthy``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holdemd.config.binder import dataclass_to_dict
from holdemd.config.schema import Config
from holdemd.durations import format_bytes, format_duration, parse_duration
from holdemd.errors import HoldemdError
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game
from holdemd.games.report import check_fits, game_report, table_itemsize
from holdemd.protocol.codec import decode
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.worker import (
    Ack,
    Delta,
    Hello,
    Message,
    Pause,
    Resume,
    Welcome,
    WorkerSpec,
)
from holdemd.rundir.manifest import check_abstraction
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.rundir.status import RunState, RunStatus, WorkerStatus, status_line, utc_now_iso
from holdemd.rundir.store import remove_stale_temp_dirs
from holdemd.solver.tables import Tables, regret_unit
from holdemd.training import metrics as tags
from holdemd.training.clock import TrainingClock
from holdemd.training.link import WorkerLink
from holdemd.training.merge import Merger
from holdemd.training.metrics import MetricsWriter, open_metrics
from holdemd.training.quality import QualityChecks
from holdemd.training.rate import RateMeter
from holdemd.training.reporting import PruningMeter, StatusFile, floor_fraction, worker_scalars
from holdemd.training.schedule_runner import ScheduleRunner
from holdemd.training.shared_tables import SharedTables, remove_orphaned_segments
from holdemd.training.slots import DEFAULT_WORKER_COMMAND, Timeouts, WorkerSlot
from holdemd.training.snapshotter import SnapshotBusy, Snapshotter, resumed_snapshot
from holdemd.training.worker_pool import PoolOptions, WorkerPool

log = logging.getLogger("holdemd.supervisor")

TICK_SECONDS = 0.1
STUCK_SECONDS = 30.0  # the main loop silent this long (and not snapshotting): unhealthy

EventSink = Callable[[str, dict[str, Any]], None]  # (kind, data): see docs/control.md, Events

__all__ = ["ResumePoint", "RunOptions", "SnapshotBusy", "TrainingResult", "TrainingRun"]


def _no_events(kind: str, data: dict[str, Any]) -> None:
    pass


def _log_progress(line: str) -> None:
    log.info("%s", line)


@dataclass(frozen=True)
class RunOptions:
    """How a run's processes are managed; what it trains (batch size, TensorBoard, ...) is its
    config's."""

    num_workers: int = 1  # the config's training.num_workers, 0 resolved to the cores
    timeouts: Timeouts = field(default_factory=Timeouts)
    status_interval: float = 2.0
    metrics_interval: float = 5.0
    stop_timeout: float = 60.0  # how long stopping workers may take to send their last batch
    handle_signals: bool = True  # SIGINT/SIGTERM stop the run (False: the service handles them)
    worker_command: tuple[str, ...] = DEFAULT_WORKER_COMMAND  # + --endpoint --slot --incarnation
    # Where the progress line goes: a log line by default; `holdemd train` in a terminal
    # draws it in place (cli.live_line).
    show_progress: Callable[[str], None] = _log_progress


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts: the tables and counters of a snapshot."""

    tables: Tables
    iteration: int
    elapsed: float
    sequence: int
    source: Path
    abstraction_digest: str | None = None
    skipped: tuple[str, ...] = ()  # newer snapshots that did not verify, each "name: why"


@dataclass(frozen=True)
class TrainingResult:
    iterations: int
    elapsed_seconds: float
    stopped_by: str  # "iterations", "time budget" or "interrupted"
    snapshot: SnapshotInfo | None
    exploitability: float | None
    game_value: float | None


class TrainingRun:
    def __init__(
        self,
        config: Config,
        run_dir: Path,
        options: RunOptions,
        *,
        config_source: str = "config",
        resume: ResumePoint | None = None,
        on_event: EventSink = _no_events,
        game: Game | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.options = options
        self.on_event = on_event
        # A caller on an event loop builds the game in a thread (it can take seconds) and
        # passes it in; it must be the one the config describes.
        self.game = game or build_game(config.game, config.abstraction.buckets)
        if resume is not None:
            check_abstraction(resume.abstraction_digest, self.game, str(resume.source))
        check_fits(game_report(self.game, table_itemsize(config)), source=config_source)
        solver = config.solver
        initial = (
            resume.tables
            if resume
            else Tables.zeros(self.game, solver.table_dtype, solver.regret_dtype)
        )
        self.run_id = f"{int(time.time())}-{os.getpid()}"
        for name in remove_orphaned_segments():
            log.warning("removed shared memory %s of a supervisor that no longer runs", name)
        self.shared = SharedTables.create(initial, run_tag=str(os.getpid()))
        self.tables = self.shared.tables
        self.resumed_from = resume.source if resume else None
        self.iteration = resume.iteration if resume else 0
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
        unit = regret_unit(initial.regret.dtype, self.game.utility_scale)
        self.schedule = ScheduleRunner(
            config,
            self.game,
            self.tables,
            unit,
            elapsed=self.clock.before,
            iteration=self.iteration,
        )
        self.merger = Merger(
            self.game,
            self.tables,
            batch_size=config.training.batch_size,
            linear=solver.linear_weighting,
            regret_unit=unit,
            seed=solver.seed,
        )
        self.link = WorkerLink(self._on_frame)
        self.pool = WorkerPool(
            PoolOptions(
                options.num_workers, options.timeouts, options.stop_timeout, options.worker_command
            ),
            self.link,
            greeting=self._greeting,
            on_event=on_event,
            on_problem=self._set_problem,
        )
        self.snapshotter = Snapshotter(
            run_dir,
            config,
            self.game,
            self.tables,
            sequence=resume.sequence + 1 if resume else 0,
            last=resumed_snapshot(run_dir, self.resumed_from),
            on_problem=lambda reason: self._set_problem("snapshot", reason),
            on_event=on_event,
        )
        self.status_file = StatusFile(run_dir, self._set_problem)
        self.metrics: MetricsWriter = open_metrics(
            run_dir / "tensorboard" if config.training.tensorboard else None
        )
        self.quality = QualityChecks(config, self.game, self.metrics)
        self.pruning = PruningMeter()
        self.worker_spec = WorkerSpec(
            game=dataclass_to_dict(config.game),
            buckets=config.abstraction.buckets,
            seed=solver.seed,
            linear=solver.linear_weighting,
            batch_size=config.training.batch_size,
            heartbeat_interval=options.timeouts.heartbeat_interval,
        )

    # -- the narrow surface --------------------------------------------------------------

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
        """Stop at the workers' batch boundaries with a final snapshot; False if already asked.

        ``final_snapshot_patience``: give up a final snapshot that keeps failing after this
        many seconds (a daemon shutdown, which systemd would otherwise kill)."""
        if final_snapshot_patience is not None:
            self.final_snapshot_patience = final_snapshot_patience
        if self.stop_requested:
            return False
        self.stop_requested = True
        log.info("stop requested (%s): finishing the batches and writing a final snapshot", why)
        return True

    async def pause(self) -> bool:
        """Workers finish their batch, send it and idle; the budget clock stops.

        Returns False when the run was already paused (nothing changed).
        """
        if self.clock.paused:
            return False
        self.clock.pause()
        self.pool.broadcast(Pause())
        if self.state == "running":
            self.state = "paused"
        log.info("paused at iteration %s; the time budget clock is stopped", f"{self.iteration:,}")
        await self.status_file.write(self.status())
        return True

    async def resume(self) -> bool:
        """Undo :meth:`pause`; False when the run was not paused."""
        if not self.clock.paused:
            return False
        self.clock.resume()
        self.pool.resume_progress(time.monotonic())
        self.pool.broadcast(Resume())
        if self.state == "paused":
            self.state = "running"
        log.info("resumed at iteration %s", f"{self.iteration:,}")
        await self.status_file.write(self.status())
        return True

    async def snapshot_now(self) -> SnapshotInfo | None:
        """Write a snapshot of the merged tables now (the service's ``snapshot`` command)."""
        return await self._snapshot()

    def healthy(self, now: float) -> bool:
        """The main loop ticks (or the run is between phases, or writing a snapshot, which take
        as long as they take): what a watchdog asks."""
        if self.state not in ("running", "paused", "degraded"):
            return True
        return self.snapshot_in_progress or now - self.last_tick < STUCK_SECONDS

    def elapsed(self) -> float:
        return self.clock.elapsed()

    def status(self) -> RunStatus:
        cfg = self.config.training
        now = time.monotonic()
        budget = cfg.time_budget_seconds
        target = cfg.iterations or None
        remaining = []
        if target and self.rate > 0:
            remaining.append((target - self.iteration) / self.rate)
        if budget is not None:
            remaining.append(budget - self.elapsed())
        state: RunState = self.state
        if state == "running" and self.degraded_reason:
            state = "degraded"
        snap = self.snapshotter.last
        return RunStatus(
            run_id=self.run_id,
            state=state,
            reason=self.degraded_reason,
            game=self.game.name,
            iterations=self.iteration,
            iterations_target=target,
            iterations_per_s=self.rate,
            elapsed_s=self.elapsed(),
            time_budget_s=budget,
            eta_s=max(0.0, min(remaining)) if remaining else None,
            workers=[
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
                for s in self.pool.slots
            ],
            last_snapshot=None
            if snap is None
            else {
                "name": snap.name,
                "path": str(snap.path),
                "iteration": snap.iteration or 0,
                "written_at": snap.written_at or utc_now_iso(),
            },
            pid=os.getpid(),
            started_at=self.started_at,
            updated_at=utc_now_iso(),
            dropped_messages=self.pool.dropped,
            write_failures={
                "status": self.status_file.failures,
                "snapshot": self.snapshotter.failures,
            },
        )

    # What tests and the service read of the parts, by their old names.

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
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if self.options.handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self._on_signal, sig)
        receiver = asyncio.create_task(self.link.receive())
        try:
            await self._startup()
            stopped_by = await self._main_loop()
            return await self._shutdown(stopped_by)
        except HoldemdError as exc:
            # Scripts read status.json: it must say the run failed, and why.
            if not self.problems:
                self.problems["failed"] = str(exc)
            self.state = "failed"
            self.status_file.write_now(self.status())
            raise
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            receiver.cancel()
            await self.pool.kill_all(0.5)
            self.close()

    def close(self) -> None:
        """Release the socket, the shared tables and the metrics writer (``run`` does this
        when it ends; a caller that never runs it calls it itself)."""
        self.link.close()
        self.shared.close()
        self.metrics.close()

    def _on_signal(self, signum: int) -> None:
        if self.stop_requested:
            log.warning(
                "second %s: stopping now, without a final snapshot", signal.Signals(signum).name
            )
            self.force = True
            return
        self.stop_requested = True
        log.info(
            "stop requested (%s): finishing the batches and writing a final snapshot; "
            "press Ctrl-C again to force",
            signal.Signals(signum).name,
        )

    async def _startup(self) -> None:
        remove_stale_temp_dirs(self.run_dir)
        log.info(
            "training %s: %s infoset rows x %d actions (%s), %d worker process(es), "
            "batch %s iterations, ZeroMQ ROUTER at %s, tables in shared memory",
            self.game.name,
            f"{self.game.num_rows:,}",
            self.game.max_actions,
            format_bytes(self.tables.nbytes),
            len(self.pool.slots),
            f"{self.config.training.batch_size:,}",
            self.link.endpoint,
        )
        if self._budget_spent() is not None:
            # A resumed run that had spent its budget: not one more batch.
            self.pool.stop_sent = True
        elif await self.pool.start(
            stopping=lambda: self.stop_requested,
            forced=lambda: self.force,
            log_path=self.run_dir / "logs" / "train.log",
        ):
            # The budget is for training, not for start-up (a first start compiles the
            # kernels for half a minute or more): its clock starts with the first worker.
            self._start_clock()
            await self.pool.start_the_others()
        if not self.clock.started:  # stopped while starting: nothing trained, nothing to time
            self._start_clock()
        self.state = "paused" if self.clock.paused else "running"

    def _start_clock(self) -> None:
        self.clock.start()
        self.rate_meter.reset()

    async def _main_loop(self) -> str:
        cfg = self.config.training
        now = time.monotonic()
        next_status = next_metrics = now
        next_progress = now + cfg.progress_interval
        next_snapshot = now + cfg.snapshot_interval_seconds
        next_exact = (
            (self.iteration // cfg.eval_interval + 1) * cfg.eval_interval
            if cfg.eval_interval
            else None
        )
        quality_every = (
            parse_duration(cfg.quality_interval) if cfg.quality_interval is not None else None
        )
        next_quality = now + quality_every if quality_every else None
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.last_tick = time.monotonic()
            self.link.poke()
            if self.force:
                raise KeyboardInterrupt
            if self.stop_requested:
                return "interrupted"
            spent = self._budget_spent()
            if spent is not None:
                return spent
            await self.pool.watch()
            self._apply_schedule()
            now = time.monotonic()
            if self.clock.paused:
                self.rate_meter.reset()  # a paused run trains nothing, and shows it at once
            self.rate = self.rate_meter.add(now, self.iteration)
            self.pool.update_rates(now, self.clock.paused)
            if next_exact is not None and self.iteration >= next_exact:
                await self.quality.exact(self.iteration, self.tables.strategy_sum)
                next_exact += cfg.eval_interval
            if now >= next_progress:
                self.options.show_progress(status_line(self.status()))
                next_progress = now + cfg.progress_interval
            if now >= next_status:
                await self.status_file.write(self.status())
                next_status = now + self.options.status_interval
            if now >= next_metrics:
                self._log_metrics()
                next_metrics = now + self.options.metrics_interval
            if next_quality is not None and quality_every and now >= next_quality:
                self.quality.start_periodic(self.iteration, self.tables.strategy_sum)
                next_quality = now + quality_every
            if now >= next_snapshot or self.snapshotter.retry_due(now):
                await self._snapshot()
                next_snapshot = time.monotonic() + cfg.snapshot_interval_seconds

    def _budget_spent(self) -> str | None:
        """What ended the run, if its iteration target or time budget is reached."""
        cfg = self.config.training
        if cfg.iterations and self.iteration >= cfg.iterations:
            return "iterations"
        budget = cfg.time_budget_seconds
        if budget is not None and self.elapsed() >= budget:
            return "time budget"
        return None

    async def _shutdown(self, stopped_by: str) -> TrainingResult:
        self.state = "stopping"
        await self.pool.stop(stopped_by, forced=lambda: self.force)
        elapsed = self.elapsed()
        log.info(
            "stopping (%s) after %s iterations in %s",
            stopped_by,
            f"{self.iteration:,}",
            format_duration(elapsed),
        )
        await self.quality.finish_periodic()
        self.schedule.before_the_end(self.iteration)
        exploitability, value = await self.quality.exact(self.iteration, self.tables.strategy_sum)
        snapshot = await self.snapshotter.final(
            self.iteration,
            self.elapsed(),
            len(self.pool.slots),
            self.schedule.finish,
            forced=lambda: self.force,
            patience=self.final_snapshot_patience,
            waiting=lambda: self.status_file.write_now(self.status()),
        )
        await self.status_file.write(self.status())  # a write that works again clears it
        self.state = "finished" if self.degraded_reason is None else "degraded"
        self.status_file.write_now(self.status())
        self._log_metrics()
        return TrainingResult(self.iteration, elapsed, stopped_by, snapshot, exploitability, value)

    # -- workers' messages ---------------------------------------------------------------

    def _on_frame(self, identity: bytes, payload: bytes) -> None:
        try:
            message = decode(payload)
        except ProtocolError as exc:
            self.pool.drop(self.pool.by_identity.get(identity), f"undecodable message: {exc}")
            return
        if isinstance(message, Hello):
            self.pool.on_hello(identity, message)
            return
        slot = self.pool.sender(identity, message)
        if slot is None:
            return
        if isinstance(message, Delta):
            self.merge_delta(slot, message, time.monotonic())
        else:
            self.pool.on_report(slot, message, time.monotonic())

    def merge_delta(self, slot: WorkerSlot, delta: Delta, now: float) -> bool:
        """Merge a worker's delta and acknowledge it; False (and nothing written) if refused."""
        why = self.merger.merge(
            delta,
            iteration=self.iteration,
            floor=self.schedule.regret_floor,
            prune_probability=self.schedule.settings.prune_probability,
        )
        if why is not None:
            self.pool.drop(slot, f"delta refused: {why}")
            log.warning("worker %d: delta refused: %s", slot.slot, why)
            return False
        self.iteration += delta.iterations
        self.pool.credit(slot, delta, now)
        if slot.identity is None:
            return True
        if self.schedule.counts_iterations:
            self._apply_schedule()  # iteration points land on the merge reaching them
        else:
            self.schedule.step()  # a pending whole-table pass advances between merges
        target = self.config.training.iterations
        if target and self.iteration >= target and not self.pool.stop_sent:
            # Stop now, from the merge path, not at the next tick: a fast game would run many
            # more batches in a tenth of a second. The Stop goes out before the Ack on the
            # same socket, so no worker starts another batch.
            self.pool.send_stop("iterations")
        self.link.send(slot.identity, Ack(seq=delta.seq))
        return True

    def _greeting(self, slot: WorkerSlot) -> list[Message]:
        """A worker's welcome: what to run, from which tables, in which state."""
        welcome = Welcome(
            run_id=self.run_id,
            slot=slot.slot,
            incarnation=slot.incarnation,
            # Distinct per slot, incarnation and resume point: no two batches share a stream.
            stream=(slot.slot << 40) ^ (slot.incarnation << 20) ^ self.iteration,
            first_iteration=self.iteration,
            tables=self.shared.handles,
            spec=self.worker_spec,
        )
        messages: list[Message] = [welcome, self.schedule.settings_message()]
        if self.clock.paused:
            messages.append(Pause())
        return messages

    # -- the schedule, metrics, snapshots --------------------------------------------------

    def _apply_schedule(self) -> None:
        changed = self.schedule.apply(self.elapsed(), self.iteration)
        if changed is not None:
            self.pool.broadcast(changed)

    def _log_metrics(self) -> None:
        merger = self.merger
        values = {
            tags.TRAIN_ITERATIONS: float(self.iteration),
            tags.TRAIN_ITERATIONS_PER_S: self.rate,
            tags.TRAIN_INFOSET_ROWS_TOUCHED: float(merger.touched.sum()),
            tags.TRAIN_DELTA_BYTES_PER_S: merger.delta_bytes / max(self.elapsed(), 1e-9),
            tags.TRAIN_MERGE_LATENCY_MS: 1000 * merger.merge_seconds / max(merger.merges, 1),
            **worker_scalars(self.pool.slots, self.pool.up),
            tags.SCHEDULE_DISCOUNTS: float(self.schedule.discounts),
            tags.SCHEDULE_AVERAGE_SNAPSHOTS: float(self.schedule.average_snapshots),
        }
        pruned = self.pruning.fraction(self.pool.slots)
        if pruned is not None:
            values[tags.SCHEDULE_PRUNED_FRACTION] = pruned
        if self.schedule.regret_floor is not None:
            values[tags.SCHEDULE_FLOOR_FRACTION] = floor_fraction(
                self.tables.regret, self.schedule.regret_floor
            )
        self.metrics.scalars(values, self.iteration)

    async def _snapshot(self) -> SnapshotInfo | None:
        return await self.snapshotter.write(
            self.iteration, self.elapsed(), len(self.pool.slots), self.schedule.finish
        )

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
