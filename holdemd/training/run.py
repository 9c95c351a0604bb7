"""The training supervisor: an asyncio loop that keeps every worker busy and merges their work.

It owns the global tables (shared memory; it is their only writer), a ZeroMQ ROUTER socket the
workers connect to, and the run directory. Each tick it merges what arrived, checks the budget,
restarts crashed or hung workers with backoff, and writes status, metrics and snapshots. A
delta is merged as soon as it arrives: there is no barrier, so a slow worker stalls nobody.
``holdemd train`` runs it in the foreground; the service (``holdemd serve``) will run the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from holdemd.config.binder import dataclass_to_dict
from holdemd.config.schema import Config
from holdemd.durations import format_bytes, format_duration, parse_duration
from holdemd.errors import HoldemdError, SnapshotError, SnapshotWriteError
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game
from holdemd.games.report import check_fits, game_report, table_itemsize
from holdemd.protocol.codec import decode, encode
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.worker import (
    Ack,
    Bye,
    Delta,
    Error,
    Heartbeat,
    Hello,
    Message,
    Pause,
    Ready,
    Resume,
    Settings,
    Stop,
    Welcome,
)
from holdemd.rundir.manifest import check_abstraction, snapshot_manifest
from holdemd.rundir.snapshots import (
    SnapshotInfo,
    read_manifest,
    snapshot_info,
    snapshot_name,
    write_snapshot,
)
from holdemd.rundir.status import (
    FINAL_SLOT_STATES,
    UP_SLOT_STATES,
    RunState,
    RunStatus,
    WorkerStatus,
    status_line,
    utc_now_iso,
    write_status,
)
from holdemd.rundir.store import make_room, prune_snapshots, remove_stale_temp_dirs
from holdemd.solver.exact import ExactEvaluator, can_enumerate
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.schedule import Schedule, WorkerSettings, parse_clock
from holdemd.solver.tables import (
    Tables,
    average_strategy,
    merge_rows,
    normalize_block,
    regret_unit,
    row_num_actions,
    scale_rows,
    stored_floor,
)
from holdemd.training import metrics as tags
from holdemd.training.live_line import LIVE_LINE
from holdemd.training.metrics import MetricsWriter, open_metrics
from holdemd.training.rate import RateMeter
from holdemd.training.shared_tables import SharedTables, remove_orphaned_segments
from holdemd.training.slots import DEFAULT_WORKER_COMMAND, Timeouts, WorkerSlot
from holdemd.training.sweeps import TableSweeps

log = logging.getLogger("holdemd.supervisor")

TICK_SECONDS = 0.1

EventSink = Callable[[str, dict[str, Any]], None]  # (kind, data): see docs/control.md, Events


def _no_events(kind: str, data: dict[str, Any]) -> None:
    pass


SNAPSHOT_RETRY_FIRST = 5.0  # a failed snapshot is tried again after this, doubling ...
SNAPSHOT_RETRY_MAX = 60.0  # ... up to this
DELTA_SLACK = 4.0  # see Supervisor._implausible
SWEEP_STEP_SECONDS = 0.005  # whole-table passes advance this long after each merge and tick
MAX_BURST = 64  # messages handled per wake-up before the loop lets other tasks run


@dataclass(frozen=True)
class SupervisorOptions:
    num_workers: int = 1
    batch_size: int = 2_000  # iterations per worker batch: the merge period
    tensorboard: bool = True
    timeouts: Timeouts = field(default_factory=Timeouts)
    status_interval: float = 2.0
    metrics_interval: float = 5.0
    stop_timeout: float = 60.0  # how long stopping workers may take to send their last batch
    handle_signals: bool = True  # SIGINT/SIGTERM stop the run (False: the service handles them)
    worker_command: tuple[str, ...] = DEFAULT_WORKER_COMMAND  # + --endpoint --slot --incarnation


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


class Supervisor:
    def __init__(
        self,
        config: Config,
        run_dir: Path,
        options: SupervisorOptions,
        *,
        config_source: str = "config",
        resume: ResumePoint | None = None,
        on_event: EventSink = _no_events,
        game: Game | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.options = options
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
        self.resume_source = resume.source if resume else None
        self.start_iteration = resume.iteration if resume else 0
        self.iteration = self.start_iteration
        self.elapsed_before = resume.elapsed if resume else 0.0
        self.snapshots_written = resume.sequence + 1 if resume else 0
        self.evaluator = ExactEvaluator(self.game) if can_enumerate(self.game) else None
        self.regret_unit = regret_unit(initial.regret.dtype, self.game.utility_scale)
        self.schedule = build_schedule(
            config, self.game, self.elapsed_before, self.iteration, self.regret_unit
        )
        self.sweeps = TableSweeps(self.game.num_rows)
        # Rounds merged changes into integer regrets; a stream no worker uses.
        self.rounding = make_rng_state(config.solver.seed, stream=1 << 62)
        self.settings = self.schedule.worker_settings(self.elapsed_before, self.iteration)
        self.later_rows = row_streets(self.game) > 0 if self.schedule.snapshot_averaging else None
        self.row_actions = row_num_actions(self.game) if self.later_rows is not None else None
        self.discounts = 0
        self.quality_task: asyncio.Task[None] | None = None
        self.average_snapshots = 0
        self.pruned_mark = (0, 0)  # (pruned, prunable) at the last metrics write
        self.slots = [WorkerSlot(slot=i) for i in range(options.num_workers)]
        self.by_identity: dict[bytes, WorkerSlot] = {}
        self.touched = np.zeros(self.game.num_rows, dtype=bool)
        self.stop_requested = False
        self.stop_sent = False
        self.force = False
        # Why the run is degraded, by source ("workers", "snapshot", "status"); a source's
        # entry goes when its trouble does (a snapshot that works again clears "snapshot").
        self.problems: dict[str, str] = {}
        self.write_failures = {"status": 0, "snapshot": 0}
        self.snapshot_retry_at: float | None = None  # after a failed snapshot: try again then
        self.snapshot_failures_in_a_row = 0
        self.final_snapshot_patience: float | None = None  # None: retry until it is written
        self.dropped = 0
        self.delta_bytes = 0
        self.merge_seconds = 0.0
        self.merges = 0
        self.last_snapshot: SnapshotInfo | None = resumed_snapshot(run_dir, resume)
        self.last_quality: tuple[int, float, float] | None = None
        self.started = 0.0
        self.started_at = utc_now_iso()
        self.rate = 0.0  # iterations/s over the last ten seconds or so
        self.rate_meter = RateMeter()
        self._state: RunState = "starting"
        self.on_event = on_event
        self.paused = False
        self.paused_seconds = 0.0  # time spent paused: not counted against the budget
        self.paused_since: float | None = None
        self.snapshot_in_progress = False
        self.last_tick = time.monotonic()  # the main loop's latest tick: a watchdog reads it
        remove_dead_runtime_dirs()
        self._runtime = Path(tempfile.mkdtemp(prefix=f"holdemd-{os.getpid()}-"))
        self.endpoint = f"ipc://{self._runtime / 'workers.sock'}"
        # A plain (not zmq.asyncio) socket, read from an asyncio reader callback on its FD and
        # written with non-blocking sends: no future per message, and every handler is plain
        # synchronous code between two awaits, so no merge can interleave with another.
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.socket: zmq.Socket[bytes] = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SNDHWM, 0)  # never drop an ack or a stop: peers are few
        self.socket.bind(self.endpoint)
        self._readable = asyncio.Event()
        self.metrics: MetricsWriter = open_metrics(
            run_dir / "tensorboard" if options.tensorboard else None
        )

    @property
    def degraded_reason(self) -> str | None:
        return "; ".join(self.problems.values()) or None

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

    # -- lifecycle -----------------------------------------------------------------------

    async def run(self) -> TrainingResult:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if self.options.handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self._on_signal, sig)
        receiver = asyncio.create_task(self._receive_loop())
        try:
            remove_stale_temp_dirs(self.run_dir)
            log.info(
                "training %s: %s infoset rows x %d actions (%s), %d worker process(es), "
                "batch %s iterations, ZeroMQ ROUTER at %s, tables in shared memory",
                self.game.name,
                f"{self.game.num_rows:,}",
                self.game.max_actions,
                format_bytes(self.tables.nbytes),
                len(self.slots),
                f"{self.options.batch_size:,}",
                self.endpoint,
            )
            if self._budget_spent() is None:
                await self._start_workers()
            else:
                # A resumed run that had spent its budget: not one more batch.
                self.stop_sent = True
            if not self.started:  # stopped while starting: nothing trained, nothing to time
                self._start_clock()
            self.state = "paused" if self.paused else "running"
            stopped_by = await self._main_loop()
            self.state = "stopping"
            await self._stop_workers(stopped_by)
            return await self._finish(stopped_by)
        except HoldemdError as exc:
            # Scripts read status.json: it must say the run failed, and why.
            if not self.problems:
                self.problems["failed"] = str(exc)
            self.state = "failed"
            self._write_status_now()
            raise
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            receiver.cancel()
            await asyncio.gather(*(slot.kill(0.5) for slot in self.slots))
            self.close()

    def close(self) -> None:
        """Release the socket, the shared tables and the metrics writer (``run`` does this
        when it ends; a caller that never runs the supervisor calls it itself)."""
        self.socket.close()
        self.context.term()
        self.shared.close()
        self.metrics.close()
        for path in self._runtime.iterdir():
            path.unlink(missing_ok=True)
        self._runtime.rmdir()

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

    def request_stop(self, why: str) -> bool:
        """Stop at the workers' batch boundaries with a final snapshot; False if already asked."""
        if self.stop_requested:
            return False
        self.stop_requested = True
        log.info("stop requested (%s): finishing the batches and writing a final snapshot", why)
        return True

    async def pause(self) -> bool:
        """Workers finish their batch, send it and idle; the budget clock stops.

        Returns False when the run was already paused (nothing changed).
        """
        if self.paused:
            return False
        self.paused = True
        self.paused_since = time.monotonic()
        self._broadcast(Pause())
        if self.state == "running":
            self.state = "paused"
        log.info("paused at iteration %s; the time budget clock is stopped", f"{self.iteration:,}")
        await self._write_status()
        return True

    async def resume(self) -> bool:
        """Undo :meth:`pause`; False when the run was not paused."""
        if not self.paused:
            return False
        now = time.monotonic()
        self.paused_seconds += now - (self.paused_since or now)
        self.paused_since = None
        self.paused = False
        for slot in self.slots:
            slot.last_progress_at = now  # the pause is not a stall
        self._broadcast(Resume())
        if self.state == "paused":
            self.state = "running"
        log.info("resumed at iteration %s", f"{self.iteration:,}")
        await self._write_status()
        return True

    async def snapshot_now(self) -> SnapshotInfo | None:
        """Write a snapshot of the merged tables now (the service's ``snapshot`` command)."""
        return await self._snapshot()

    def _broadcast(self, message: Message) -> None:
        for slot in self.slots:
            if slot.identity is not None and slot.alive:
                self._send(slot.identity, message)

    def elapsed(self) -> float:
        if not self.started:
            return self.elapsed_before
        now = time.monotonic()
        paused = self.paused_seconds + (now - self.paused_since if self.paused_since else 0.0)
        return self.elapsed_before + (now - self.started - paused)

    def _start_clock(self) -> None:
        """Training time starts now: the time budget is for training, not for start-up (a
        first start compiles the kernels for half a minute or more)."""
        self.started = time.monotonic()
        self.paused_seconds = 0.0
        if self.paused_since is not None:
            self.paused_since = self.started
        self.rate_meter.reset()

    async def _start_workers(self) -> None:
        """Start-up check: one worker must say hello and get ready before the rest start.

        The time budget's clock starts when it is ready."""
        first = self.slots[0]
        log.info(
            "starting worker 0; a first start on this machine compiles the kernels (a minute "
            "or so, cached afterwards); the time budget starts when it is ready"
        )
        await self._spawn(first)
        deadline = time.monotonic() + self.options.timeouts.compile
        while first.state != "running":
            await asyncio.sleep(TICK_SECONDS)
            if self.stop_sent:
                return  # it reached the iteration target already: nothing more to start
            if self.force:
                raise KeyboardInterrupt
            if self.stop_requested:
                # Nothing trained yet, so nothing to wait for: the main loop then ends the run
                # as interrupted, like a stop at any later time.
                await first.kill(self.options.timeouts.kill_grace)
                return
            if not first.alive or first.last_error or time.monotonic() > deadline:
                alive = first.alive
                await first.kill(self.options.timeouts.kill_grace)
                code = first.process.returncode if first.process else None
                if first.last_error:
                    why = first.last_error
                elif not alive:
                    why = _exit_text(code)
                else:
                    why = "it did not get ready in time"
                raise HoldemdError(
                    f"start-up check failed: worker 0 could not start: {why} "
                    f"(log: {self.run_dir / 'logs' / 'train.log'})"
                )
        self._start_clock()
        for slot in self.slots[1:]:
            if self.stop_sent:
                break
            await self._spawn(slot)

    async def _main_loop(self) -> str:
        cfg = self.config.training
        now = time.monotonic()
        next_status = next_metrics = now
        next_progress = now + cfg.progress_interval
        next_snapshot = now + cfg.snapshot_interval_seconds
        next_eval = (
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
            if int(self.socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                self._readable.set()  # an edge the reader callback never saw
            if self.force:
                raise KeyboardInterrupt
            if self.stop_requested:
                return "interrupted"
            spent = self._budget_spent()
            if spent is not None:
                return spent
            await self._watch_workers()
            self._apply_schedule()
            now = time.monotonic()
            if self.paused:
                self.rate_meter.reset()  # a paused run trains nothing, and shows it at once
                for slot in self.slots:
                    slot.rate_meter.reset()
            self.rate = self.rate_meter.add(now, self.iteration)
            for slot in self.slots:
                # Over the same window as the total: per batch, the rates would be a sawtooth.
                slot.rate = slot.rate_meter.add(now, slot.merged_iterations)
            if next_eval is not None and self.iteration >= next_eval:
                await self._evaluate()
                next_eval += cfg.eval_interval
            if now >= next_progress:
                self._progress()
                next_progress = now + cfg.progress_interval
            if now >= next_status:
                await self._write_status()
                next_status = now + self.options.status_interval
            if now >= next_metrics:
                self._log_metrics(now)
                next_metrics = now + self.options.metrics_interval
            if next_quality is not None and quality_every and now >= next_quality:
                self._start_quality_evaluation()
                next_quality = now + quality_every
            retry_due = self.snapshot_retry_at is not None and now >= self.snapshot_retry_at
            if now >= next_snapshot or retry_due:
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

    def _send_stop(self, reason: str) -> None:
        self.stop_sent = True
        self._broadcast(Stop(reason=reason))

    async def _stop_workers(self, reason: str) -> None:
        """Ask every worker to stop after its batch; merge what they send; then make sure."""
        if not self.stop_sent:
            self._send_stop(reason)
        deadline = time.monotonic() + self.options.stop_timeout
        while any(s.alive for s in self.slots) and time.monotonic() < deadline and not self.force:
            await asyncio.sleep(TICK_SECONDS)
        await asyncio.gather(*(s.kill(self.options.timeouts.kill_grace) for s in self.slots))
        for slot in self.slots:
            if slot.state != "failed":
                slot.state = "stopped"

    async def _finish(self, stopped_by: str) -> TrainingResult:
        elapsed = self.elapsed()
        log.info(
            "stopping (%s) after %s iterations in %s",
            stopped_by,
            f"{self.iteration:,}",
            format_duration(elapsed),
        )
        if self.quality_task is not None and not self.quality_task.done():
            # Let a running quality evaluation land in TensorBoard (it reads a copy).
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.quality_task), 30.0)
        if self.later_rows is not None and self.average_snapshots == 0:
            self._queue_average_snapshot()  # a short run: later streets must not stay uniform
        self.sweeps.finish()
        exploitability, value = await self._evaluate()
        snapshot = await self._final_snapshot()
        await self._write_status()  # a status write that works again clears its problem
        self.state = "finished" if self.degraded_reason is None else "degraded"
        self._write_status_now()
        self._log_metrics(time.monotonic())
        return TrainingResult(self.iteration, elapsed, stopped_by, snapshot, exploitability, value)

    # -- messages ------------------------------------------------------------------------

    def _send(self, identity: bytes, message: Message) -> None:
        """Send now (a ROUTER never blocks); then re-check for input, as ZeroMQ's FD is
        edge-triggered and a send can consume the edge that announced a message."""
        with contextlib.suppress(zmq.ZMQError):  # the peer is gone: nothing to deliver
            self.socket.send_multipart([identity, encode(message)], zmq.NOBLOCK)
        if int(self.socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
            self._readable.set()

    async def _receive_loop(self) -> None:
        # Everything queued is read per wake-up, without awaiting between messages.
        loop = asyncio.get_running_loop()
        fd = int(self.socket.getsockopt(zmq.FD))
        loop.add_reader(fd, self._readable.set)
        try:
            while True:
                self._readable.clear()
                handled = 0
                while handled < MAX_BURST:
                    try:
                        frames = self.socket.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    handled += 1
                    try:
                        self._on_frame(frames[0], frames[-1])
                    except Exception:  # a bug must not kill the loop merging everyone's work
                        log.exception("error handling a worker message")
                if handled == MAX_BURST:
                    await asyncio.sleep(0)  # more waiting: let the other tasks run first
                    continue
                # No timeout here (wait_for costs a task per wake-up): the main loop's tick is
                # the safety net for a missed edge.
                await self._readable.wait()
        finally:
            loop.remove_reader(fd)

    def _on_frame(self, identity: bytes, payload: bytes) -> None:
        slot = self.by_identity.get(identity)
        try:
            message = decode(payload)
        except ProtocolError as exc:
            self._drop(slot, f"undecodable message: {exc}")
            return
        now = time.monotonic()
        if isinstance(message, Hello):
            self._on_hello(identity, message)
            return
        if slot is None or getattr(message, "incarnation", None) != slot.incarnation:
            self._drop(None, f"{type(message).__name__} from an unknown or old worker")
            return
        slot.last_message_at = now
        if isinstance(message, Delta):
            if self._merge(slot, message, now) and slot.identity is not None:
                target = self.config.training.iterations
                if self.schedule.counts_iterations:
                    self._apply_schedule()  # iteration points land on the merge reaching them
                elif self.sweeps.busy:
                    self.sweeps.step(SWEEP_STEP_SECONDS)  # a pending pass advances between merges
                if target and self.iteration >= target and not self.stop_sent:
                    # Stop now, from the merge path, not at the next tick: a fast game would
                    # run many more batches in a tenth of a second. The Stop goes out before
                    # the Ack on the same socket, so no worker starts another batch.
                    self._send_stop("iterations")
                self._send(slot.identity, Ack(seq=message.seq))
        elif isinstance(message, Heartbeat):
            if message.iterations_done > slot.incarnation_iterations:
                slot.last_progress_at = now
            slot.incarnation_iterations = message.iterations_done
            slot.pruned = (message.pruned_actions, message.prunable_actions)
            slot.rss_bytes = message.rss_bytes
            if slot.state in UP_SLOT_STATES and message.state != "idle":
                slot.state = message.state
        elif isinstance(message, Ready):
            slot.state = "running"
            slot.last_progress_at = now
            self.on_event(
                "worker", {"slot": slot.slot, "pid": slot.pid, "what": "ready", "reason": None}
            )
            log.info(
                "worker %d ready (compiled or loaded kernels in %.1f s)",
                slot.slot,
                message.compile_seconds,
            )
        elif isinstance(message, Error):
            slot.last_error = f"{message.exc_type}: {message.message}"
            slot.incarnation_error = slot.last_error
            slot.last_traceback = message.traceback
            log.error(
                "worker %d raised %s\n%s", slot.slot, slot.last_error, message.traceback.rstrip()
            )
        elif isinstance(message, Bye):
            slot.state = "stopped"

    def _on_hello(self, identity: bytes, hello: Hello) -> None:
        if not 0 <= hello.slot < len(self.slots):
            self._drop(None, f"hello for unknown slot {hello.slot}")
            return
        slot = self.slots[hello.slot]
        if hello.nonce != slot.nonce or hello.incarnation != slot.incarnation:
            self._drop(None, f"hello with a stale nonce for slot {hello.slot}")
            return
        if slot.identity is not None:
            # One hello per incarnation: a second one (a copied nonce) must not take the slot
            # from the worker that has it, whatever it sends.
            self._drop(None, f"second hello for slot {hello.slot}, incarnation {slot.incarnation}")
            log.warning(
                "refused a second hello for worker %d (incarnation %d) from another peer",
                hello.slot,
                hello.incarnation,
            )
            return
        slot.identity = identity
        self.by_identity[identity] = slot
        slot.state = "compiling"
        slot.last_message_at = time.monotonic()
        welcome = Welcome(
            run_id=self.run_id,
            slot=slot.slot,
            incarnation=slot.incarnation,
            seed=self.config.solver.seed,
            # Distinct per slot, incarnation and resume point: no two batches share a stream.
            stream=(slot.slot << 40) ^ (slot.incarnation << 20) ^ self.iteration,
            tables=self.shared.handles,
            game=dataclass_to_dict(self.config),
            batch_size=self.options.batch_size,
            heartbeat_interval=self.options.timeouts.heartbeat_interval,
            first_iteration=self.iteration,
            linear=self.config.solver.linear_weighting,
        )
        self._send(identity, welcome)
        self._send(identity, _settings_message(self.settings))
        if self.paused:
            self._send(identity, Pause())
        if self.stop_sent:
            # It started after the stop went out (e.g. the target was reached while it was
            # spawning): it must not train until the stop timeout.
            self._send(identity, Stop(reason="stopping"))

    def _drop(self, slot: WorkerSlot | None, why: str) -> None:
        self.dropped += 1
        log.debug("dropped a message: %s", why)
        if slot is not None:
            slot.garbage += 1

    def _merge(self, slot: WorkerSlot, delta: Delta, now: float) -> bool:
        rows = delta.rows
        if rows.size and (
            int(rows.max()) >= self.game.num_rows or delta.regret.shape[1] != self.game.max_actions
        ):
            self._drop(slot, "delta does not fit the tables")
            return False
        why = self._implausible(delta)
        if why is not None:
            self._drop(slot, f"delta refused: {why}")
            log.warning("worker %d: delta refused: %s", slot.slot, why)
            return False
        t0 = time.perf_counter()
        # The supervisor is the tables' only writer, so no update is lost.
        if not merge_rows(
            self.tables,
            rows,
            delta.regret,
            delta.strategy,
            self.schedule.regret_floor,
            self.rounding,
        ):
            self._drop(slot, "delta refused: it would make the tables non-finite")
            log.warning("worker %d: delta refused: it would make the tables non-finite", slot.slot)
            return False
        self.touched[rows] = True
        self.merge_seconds += time.perf_counter() - t0
        self.merges += 1
        self.delta_bytes += rows.nbytes + delta.regret.nbytes + delta.strategy.nbytes
        self.iteration += delta.iterations
        slot.merged_iterations += delta.iterations
        slot.last_progress_at = now
        slot.batch_seconds.append(delta.batch_seconds)
        return True

    def _implausible(self, delta: Delta) -> str | None:
        """Why a delta cannot be a worker's honest batch, or None.

        A batch runs at most ``batch_size`` iterations, and per iteration a row's regret
        changes by at most twice the largest payoff and its strategy sum by at most one per
        other player, each times the iteration's weight (linear CFR weighs iteration t by t)
        and the importance weights of pruning's probes (1 / (1 - p) per pruned action on the
        path, so with pruning on the bound is loose); ``DELTA_SLACK`` leaves room for the
        kernel's exact bookkeeping. Beyond that a delta is corrupt or forged (a float32-max
        delta turned tables infinite), and it is refused before it is merged; ``merge_rows``
        refuses any merge that would still overflow.
        """
        iterations = delta.iterations
        if not 0 <= iterations <= self.options.batch_size:
            return f"{iterations} iterations, a batch runs 0 to {self.options.batch_size:,}"
        if delta.rows.size == 0:
            return None
        linear = self.config.solver.linear_weighting
        weight = DELTA_SLACK * (float(self.iteration + iterations + 1) if linear else 1.0)
        if self.settings.prune_probability > 0:
            # Probe weights compound along a path of pruned actions: up to one per level.
            probe = 1.0 / max(1.0 - self.settings.prune_probability, 1e-6)
            weight *= math.exp(min(self.game.arrays.max_depth * math.log(probe), 600.0))
        bounds = (
            ("regret", delta.regret, 2.0 * self.game.utility_scale * self.regret_unit),
            # Strategy sums grow where the others traverse: up to once per other player.
            ("strategy", delta.strategy, float(max(self.game.num_players - 1, 1))),
        )
        for name, values, per_iteration in bounds:
            limit = per_iteration * weight * max(iterations, 1)
            largest = max(float(values.max()), -float(values.min()))
            if largest > limit:
                return f"{name} change {largest:.3g} over the bound {limit:.3g}"
        return None

    async def _spawn(self, slot: WorkerSlot) -> None:
        await slot.spawn(self.endpoint, self.options.worker_command)
        self.on_event(
            "worker", {"slot": slot.slot, "pid": slot.pid, "what": "spawned", "reason": None}
        )

    def _apply_schedule(self) -> None:
        """Schedule events due now (holdemd.solver.schedule). The supervisor is the tables'
        only writer and runs this between merges, so no update is lost or half-scaled."""
        elapsed, iteration = self.elapsed(), self.iteration
        factor = self.schedule.discount_due(elapsed, iteration)
        if factor is not None:
            self.sweeps.add(partial(self._discount_rows, factor))
            self.discounts += 1
            log.info(
                "linear-CFR discount %d at iteration %s (%s): regrets and strategy sums x %.4f",
                self.schedule.discounts_done,
                f"{iteration:,}",
                format_duration(elapsed),
                factor,
            )
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
            self._broadcast(_settings_message(settings))
        if self.schedule.average_snapshot_due(elapsed, iteration):
            self._queue_average_snapshot()
        self.sweeps.step(SWEEP_STEP_SECONDS)

    def _queue_average_snapshot(self) -> None:
        self.sweeps.add(self._average_snapshot_rows)
        self.average_snapshots += 1
        log.info(
            "current-strategy snapshot %d for later streets' average at iteration %s",
            self.average_snapshots,
            f"{self.iteration:,}",
        )

    def _discount_rows(self, factor: float, lo: int, hi: int) -> None:
        scale_rows(self.tables.regret, lo, hi, factor)
        scale_rows(self.tables.strategy_sum, lo, hi, factor)

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

    # -- failures ------------------------------------------------------------------------

    async def _watch_workers(self) -> None:
        timeouts = self.options.timeouts
        now = time.monotonic()
        for slot in self.slots:
            if slot.state in FINAL_SLOT_STATES:
                continue
            if slot.restart_at is not None:
                if now >= slot.restart_at:
                    slot.restarts += 1
                    await self._spawn(slot)
                continue
            reason = None
            if not slot.alive:
                code = slot.process.returncode if slot.process else None
                reason = _exit_text(code)
            elif slot.garbage > timeouts.garbage_allowed:
                reason = f"sent {slot.garbage} undecodable messages"
            else:
                hung = slot.suspect_reason(now, timeouts)
                if hung is not None:
                    reason = f"hung: {hung}"
            if reason is None:
                continue
            if slot.incarnation_error and "exited" in reason:
                reason = f"{reason} after {slot.incarnation_error}"
            what = "hung" if reason.startswith("hung") else "exited"
            self.on_event(
                "worker", {"slot": slot.slot, "pid": slot.pid, "what": what, "reason": reason}
            )
            await slot.kill(timeouts.kill_grace)
            if slot.record_failure(reason, timeouts):
                log.warning(
                    "worker %d %s; restarting in %.1f s",
                    slot.slot,
                    reason,
                    slot.restart_at - time.monotonic() if slot.restart_at else 0.0,
                )
            else:
                self._set_problem(
                    f"worker {slot.slot}",
                    f"worker {slot.slot} failed {timeouts.failures_allowed} times in "
                    f"{timeouts.failure_window:.0f} s and is not restarted: {slot.last_error}",
                )
                log.error("run degraded: %s", self.degraded_reason)
        if all(slot.state == "failed" for slot in self.slots):
            raise HoldemdError(f"no worker can run: {self.degraded_reason}")

    # -- reporting -----------------------------------------------------------------------

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
        snap = self.last_snapshot
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
                for s in self.slots
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
            dropped_messages=self.dropped,
            write_failures=dict(self.write_failures),
        )

    async def _write_status(self) -> None:
        """Rewrite status.json from a thread; a failure (a full disk) is counted and reported,
        and never ends the run: the next write tries again."""
        status = self.status()
        try:
            await asyncio.to_thread(write_status, self.run_dir, status)
        except OSError as exc:
            self._status_write_failed(exc)
        else:
            self._set_problem("status", None)

    def _write_status_now(self) -> None:
        """:meth:`_write_status` without a thread, for the last word of a run."""
        try:
            write_status(self.run_dir, self.status())
        except OSError as exc:
            self._status_write_failed(exc)
        else:
            self._set_problem("status", None)

    def _status_write_failed(self, exc: OSError) -> None:
        self.write_failures["status"] += 1
        if self.write_failures["status"] == 1 or "status" not in self.problems:
            log.error("cannot write %s: %s; training goes on", self.run_dir / "status.json", exc)
        self._set_problem("status", f"cannot write status.json: {exc.strerror or exc}")

    def _progress(self) -> None:
        line = status_line(self.status())
        if sys.stderr.isatty():
            LIVE_LINE.show(line)
        else:
            log.info("%s", line)

    def _log_metrics(self, now: float) -> None:
        step = self.iteration
        alive = sum(1 for s in self.slots if s.state in UP_SLOT_STATES)
        values = {
            tags.TRAIN_ITERATIONS: float(self.iteration),
            tags.TRAIN_ITERATIONS_PER_S: self.rate,
            tags.TRAIN_INFOSET_ROWS_TOUCHED: float(self.touched.sum()),
            tags.TRAIN_DELTA_BYTES_PER_S: self.delta_bytes / max(self.elapsed(), 1e-9),
            tags.TRAIN_MERGE_LATENCY_MS: 1000 * self.merge_seconds / max(self.merges, 1),
            tags.WORKERS_ALIVE: float(alive),
            tags.WORKERS_RESTARTS: float(sum(s.restarts for s in self.slots)),
        }
        for s in self.slots:
            values[tags.worker_iterations_per_s_tag(s.slot)] = s.rate
        values[tags.SCHEDULE_DISCOUNTS] = float(self.discounts)
        values[tags.SCHEDULE_AVERAGE_SNAPSHOTS] = float(self.average_snapshots)
        pruned = sum(s.pruned[0] for s in self.slots), sum(s.pruned[1] for s in self.slots)
        considered = pruned[1] - self.pruned_mark[1]
        if considered > 0:
            skipped = max(0, pruned[0] - self.pruned_mark[0])
            values[tags.SCHEDULE_PRUNED_FRACTION] = skipped / considered
        self.pruned_mark = pruned
        if self.schedule.regret_floor is not None:
            # A strided sample of at most ~1M entries: exact for small tables, and a full scan
            # of a 6-max table every few seconds would stall the event loop.
            flat = self.tables.regret.reshape(-1)
            sample = flat[:: max(1, flat.size // 1_000_000)]
            floor = stored_floor(self.tables.regret, self.schedule.regret_floor)
            at_floor = np.count_nonzero(sample <= floor)
            values[tags.SCHEDULE_FLOOR_FRACTION] = at_floor / max(sample.size, 1)
        self.metrics.scalars(values, step)

    def _start_quality_evaluation(self) -> None:
        """A short head-to-head (and LBR) evaluation of the average strategy, in a thread on a
        copy of the strategy sums, logged to TensorBoard at the iteration it was taken."""
        if self.quality_task is not None and not self.quality_task.done():
            return  # the previous one is still running: skip rather than queue
        cfg = self.config.training
        iteration = self.iteration
        strategy_sum = self.tables.strategy_sum.copy()

        def evaluate() -> dict[str, float]:
            from holdemd.evaluation.periodic import quality_scalars

            return quality_scalars(
                self.game,
                strategy_sum,
                deals=cfg.quality_deals,
                lbr_deals=cfg.quality_lbr_deals,
                seed=self.config.solver.seed,
            )

        async def run() -> None:
            try:
                values = await asyncio.to_thread(evaluate)
            except Exception as exc:  # an evaluation must never stop training
                log.error("quality evaluation at iteration %s failed: %s", f"{iteration:,}", exc)
                return
            self.metrics.scalars(values, iteration)
            log.info(
                "quality at iteration %s: %s",
                f"{iteration:,}",
                ", ".join(f"{k.split('/')[-1]} {v:+.1f}" for k, v in values.items()),
            )

        self.quality_task = asyncio.create_task(run())

    async def _evaluate(self) -> tuple[float | None, float | None]:
        if self.evaluator is None:
            return None, None
        if self.last_quality is not None and self.last_quality[0] == self.iteration:
            return self.last_quality[1], self.last_quality[2]
        iteration = self.iteration
        policy = average_strategy(self.game, self.tables.strategy_sum.copy())
        evaluator = self.evaluator
        exploitability = await asyncio.to_thread(evaluator.exploitability, policy)
        value = evaluator.game_value(policy)
        log.info(
            "iteration %s: exploitability %.6f chips/game, game value %.6f",
            f"{iteration:,}",
            exploitability,
            value,
        )
        self.metrics.scalar(tags.QUALITY_EXPLOITABILITY, exploitability, iteration)
        self.last_quality = (iteration, exploitability, value)
        return exploitability, value

    async def _snapshot(self) -> SnapshotInfo | None:
        """Write a snapshot of the merged tables now; None if it could not be written (the
        run is then degraded, and the main loop tries again soon)."""
        name = snapshot_name(self.iteration)
        if self.last_snapshot is not None and self.last_snapshot.name == name:
            return self.last_snapshot
        if self.snapshot_in_progress:
            raise SnapshotBusy("a snapshot is being written")
        self.snapshot_in_progress = True
        try:
            return await self._write_snapshot(name)
        finally:
            self.snapshot_in_progress = False

    async def _final_snapshot(self) -> SnapshotInfo | None:
        """The last snapshot of the run, retried until it is written: the tables stay in
        memory meanwhile, so freeing disk space saves the run. A second Ctrl-C gives up (exit
        without it), as does ``final_snapshot_patience`` running out (a daemon shutdown, which
        the next daemon resumes from the last good snapshot)."""
        waited = 0.0
        delay = SNAPSHOT_RETRY_FIRST
        while True:
            while self.snapshot_in_progress:  # a `holdemctl snapshot` is being written
                await asyncio.sleep(TICK_SECONDS)
            info = await self._snapshot()
            if info is not None:
                return info
            patience = self.final_snapshot_patience
            if patience is not None and waited >= patience:
                raise SnapshotWriteError(
                    f"gave up writing the final snapshot after {waited:.0f} s "
                    f"({self.problems.get('snapshot')}); the last good one is "
                    f"{self.last_snapshot.path if self.last_snapshot else 'none'}"
                )
            log.error(
                "the final snapshot could not be written; trying again in %.0f s "
                "(free disk space; Ctrl-C again to exit without it)",
                delay,
            )
            self._write_status_now()
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                if self.force:
                    raise KeyboardInterrupt
                await asyncio.sleep(TICK_SECONDS)
            waited += delay
            delay = min(delay * 2, SNAPSHOT_RETRY_MAX)

    async def _write_snapshot(self, name: str) -> SnapshotInfo | None:
        # A discount or averaging pass half done would be counted as done on resume.
        self.sweeps.finish()
        # Copy between merges (the loop is single-threaded), write from a thread.
        arrays = {
            "regret": self.tables.regret.copy(),
            "strategy_sum": self.tables.strategy_sum.copy(),
        }
        manifest = snapshot_manifest(
            self.config,
            self.game,
            iteration=self.iteration,
            elapsed=self.elapsed(),
            rng_state=0,
            sequence=self.snapshots_written,
        )
        manifest["num_workers"] = len(self.slots)
        cfg = self.config.training
        while True:
            try:
                # overwrite: a snapshot of this name from before a resume is superseded.
                info = await asyncio.to_thread(
                    write_snapshot, self.run_dir, name, arrays, manifest, overwrite=True
                )
                break
            except SnapshotWriteError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    freed = await asyncio.to_thread(make_room, self.run_dir, cfg.keep_every)
                    if freed is not None:
                        log.warning("disk full: removed snapshot %s to make room", freed)
                        continue
                self._snapshot_failed(exc)
                return None
        self.snapshots_written += 1
        log.info(
            "snapshot written: %s (%s, %.2f s)", info.path, format_bytes(info.bytes), info.seconds
        )
        self.snapshot_retry_at = None
        self.snapshot_failures_in_a_row = 0
        self._set_problem("snapshot", None)
        with contextlib.suppress(SnapshotWriteError):  # retention waits for the next snapshot
            prune_snapshots(self.run_dir, cfg.keep_snapshots, cfg.keep_every)
        self.last_snapshot = info
        self.on_event(
            "snapshot",
            {
                "path": str(info.path),
                "iteration": self.iteration,
                "bytes": info.bytes,
                "seconds": info.seconds,
            },
        )
        return info

    def _snapshot_failed(self, exc: SnapshotWriteError) -> None:
        """Degrade the run, saying why, and try again soon with backoff; the merged tables
        stay in memory, so nothing is lost unless the process dies before a write works."""
        self.write_failures["snapshot"] += 1
        self.snapshot_failures_in_a_row += 1
        delay = min(
            SNAPSHOT_RETRY_FIRST * 2 ** (self.snapshot_failures_in_a_row - 1), SNAPSHOT_RETRY_MAX
        )
        self.snapshot_retry_at = time.monotonic() + delay
        last = self.last_snapshot
        since = f"last good snapshot {last.name}" if last else "no snapshot yet"
        self._set_problem("snapshot", f"snapshots failing ({since}): {exc}")
        log.error(
            "%s; the previous snapshot is intact, training goes on, next try in %.0f s",
            exc,
            delay,
        )


class SnapshotBusy(HoldemdError):
    """A snapshot was asked for while another is being written."""


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


def _settings_message(settings: WorkerSettings) -> Settings:
    return Settings(
        prune_probability=settings.prune_probability,
        prune_threshold=settings.prune_threshold,
        average_streets=settings.average_streets,
    )


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exited"
    if code < 0:
        try:
            return f"exited: killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"exited: killed by signal {-code}"
    return f"exited with code {code}"


def remove_dead_runtime_dirs() -> None:
    """Remove the socket directories of supervisors that died without cleaning up (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob("holdemd-*-*"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid() or Path(f"/proc/{pid}").exists():
            continue
        for child in path.glob("*"):
            child.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.rmdir()


def resumed_snapshot(run_dir: Path, resume: ResumePoint | None) -> SnapshotInfo | None:
    """The snapshot a run resumed from, if it is in this run directory: until training moves
    on it is the run's newest snapshot (a stop right after the resume has nothing to write)."""
    if resume is None or resume.source.parent.parent.resolve() != run_dir.resolve():
        return None
    try:
        return snapshot_info(resume.source, read_manifest(resume.source))
    except SnapshotError:
        return None
