"""``holdemd serve``: the long-running daemon that trains one run at a time on command.

It holds an exclusive lock on its state directory (``lock``), serves the control socket
(``control_server``, docs/control.md; the commands are in ``commands``), and runs the same
``TrainingRun`` as ``holdemd train`` (``runs`` starts, trains, stops and recovers it). The
active run is recorded (``active_run``) until it ends by itself or a client stops it; a daemon
that starts and finds that record (it was killed, the machine rebooted, systemd restarted it)
resumes the run from its last snapshot, so at most one snapshot interval of work is lost.

Under systemd it speaks the notify protocol: READY=1 once the socket is bound, STATUS= every
few seconds, WATCHDOG=1 only while its loop and the run's loop keep ticking, STOPPING=1 and
extended stop timeouts while a final snapshot is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd import __version__
from holdemd.config.loader import load_config
from holdemd.errors import HoldemdError
from holdemd.protocol.control import ControlEvent, ControlRequest
from holdemd.protocol.errors import E_BAD_REQUEST, E_NOT_RUNNING
from holdemd.protocol.paths import SOCKET_NAME
from holdemd.rundir.logs import RunLog, reopen_log_files
from holdemd.rundir.status import past_runs, status_line, status_to_dict, utc_now_iso
from holdemd.service.active_run import ActiveRunRecord
from holdemd.service.commands import dispatch, mutating_commands, stats_event
from holdemd.service.control_server import CommandError, Connection, ControlServer
from holdemd.service.health import health
from holdemd.service.lock import DaemonLock
from holdemd.service.runs import recover, start_run, stop_run
from holdemd.service.sd_notify import Notifier
from holdemd.service.strategy import StrategyLookups
from holdemd.training.run import TrainingResult, TrainingRun

log = logging.getLogger("holdemd.service")

STATUS_SCHEMA = 1
HOUSEKEEPING_SECONDS = 0.5
NOTIFY_STATUS_SECONDS = 5.0
PAST_RUNS_LISTED = 20


@dataclass(frozen=True)
class ServiceOptions:
    state_dir: Path
    runtime_dir: Path
    default_config: Path | None = None  # `start` without a config uses this one
    socket_group: int | None = None  # read-only access for this group (socket mode 0660)
    # Every run it starts (or resumes) leads `holdemd node`s here (holdemd.hosts): "" for none.
    listen: str = ""
    keys: Path | None = None
    ray: str = ""  # ... placed on this Ray cluster (holdemd.hosts.ray_placement): "" for none


class Service:
    def __init__(self, options: ServiceOptions, notifier: Notifier | None = None) -> None:
        self.options = options
        self.state_dir = options.state_dir
        self.runs_root = options.state_dir / "runs"
        self.socket_path = options.runtime_dir / SOCKET_NAME
        self.notifier = notifier or Notifier.from_env()
        self.lock = DaemonLock(options.state_dir)
        self.record = ActiveRunRecord(options.state_dir)
        self.server = ControlServer(
            self.socket_path, self._handle, mutating_commands(), group=options.socket_group
        )
        self.started_at = utc_now_iso()
        self.started = time.monotonic()
        self.run: TrainingRun | None = None
        self.run_task: asyncio.Task[TrainingResult | None] | None = None
        self.starting = False  # a start is loading the game: another start is E_BUSY
        self.resumed_from: str | None = None
        self.last_run: dict[str, Any] | None = None  # the previous run's final status
        self.shutdown = asyncio.Event()
        self.shutdown_reason = ""
        self.stats_due: dict[int, float] = {}  # id(connection) -> next stats event
        self.run_log = RunLog()  # the active run's logs/train.log gets the daemon's lines too
        self.background: set[asyncio.Task[Any]] = set()
        # The active run outlives this daemon (a shutdown, not a user's stop): ``runs``.
        self.keep_record_on_end = False
        self.recovery_error: str | None = None  # why the recorded active run did not resume
        self.lookups = StrategyLookups(self.runs_root, self._live_run)

    # -- lifecycle -----------------------------------------------------------------------

    async def serve(self) -> int:
        self.lock.acquire()  # before binding anything: a second daemon stops here
        try:
            await self.server.start()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_shutdown, signal.Signals(sig).name)
            loop.add_signal_handler(signal.SIGHUP, self._reload)
            log.info(
                "holdemd %s serving %s (state %s, pid %d)",
                __version__,
                self.socket_path,
                self.state_dir,
                os.getpid(),
            )
            self.notifier.ready("idle")
            await recover(self)
            await self._housekeeping()
            await stop_run(self, f"daemon shutdown ({self.shutdown_reason})", keep_record=True)
            return 0
        finally:
            self.notifier.stopping("closing")
            await self.server.close()
            self.run_log.detach()
            self.lock.release()

    def request_shutdown(self, why: str) -> bool:
        """Stop the run (final snapshot; it stays recorded) and exit; False if already asked."""
        if self.shutdown.is_set():
            log.warning("%s again: already shutting down", why)
            return False
        log.info("shutting down (%s): the active run writes a final snapshot first", why)
        self.shutdown_reason = why
        self.notifier.stopping("stopping: final snapshot")
        self.shutdown.set()
        return True

    def _reload(self) -> None:
        """SIGHUP: reopen log files (for logrotate) and re-check the default config."""
        self.notifier.reloading()
        reopen_log_files()
        if self.options.default_config is not None:
            try:
                load_config(self.options.default_config)
                log.info("reloaded: %s is valid", self.options.default_config)
            except HoldemdError as exc:
                log.error("reload: %s (the next start without a config will fail)", exc)
        self.notifier.ready(self._notify_status())

    async def _housekeeping(self) -> None:
        next_status = 0.0
        next_watchdog = 0.0
        interval = self.notifier.watchdog_interval
        while not self.shutdown.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.shutdown.wait(), HOUSEKEEPING_SECONDS)
            now = time.monotonic()
            if interval is not None and now >= next_watchdog and self._healthy(now):
                self.notifier.watchdog()
                next_watchdog = now + interval
            if now >= next_status:
                self.notifier.status(self._notify_status())
                next_status = now + NOTIFY_STATUS_SECONDS
            self._publish_stats(now)

    def _healthy(self, now: float) -> bool:
        """Our loop runs (we are here); the run's must tick too (``TrainingRun.healthy``)."""
        return self.run is None or self.run.healthy(now)

    def _notify_status(self) -> str:
        if self.run is not None:
            return status_line(self.run.status())
        return "idle: no active run"

    # -- runs (started, trained, stopped and recovered in ``runs``) ----------------------

    async def start(
        self, config: Path | None, overrides: dict[str, Any], resume: Path | bool | None
    ) -> TrainingRun:
        """The ``start`` command: a new run of ``config`` (else the daemon's default), or a
        resumed one (``resume``: a run or snapshot path, or True for the newest run)."""
        if config is None and not resume:
            if self.options.default_config is None:
                raise CommandError(
                    E_BAD_REQUEST, "start needs 'config' (holdemd serve has no --config default)"
                )
            config = self.options.default_config
        where = self._newest_run() if resume is True else resume or None
        return await start_run(self, config, overrides, where, None)

    # -- events --------------------------------------------------------------------------

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Send an event to the subscribed connections (a run's events come through here)."""
        self.server.publish(ControlEvent(kind, utc_now_iso(), data))

    def _publish_stats(self, now: float) -> None:
        for conn in self.server.subscribers():
            due = self.stats_due.get(id(conn), 0.0)
            if now < due:
                continue
            self.stats_due[id(conn)] = now + conn.stats_interval
            data = stats_event(self.run.status() if self.run else None)
            with contextlib.suppress(asyncio.QueueFull):
                assert conn.events is not None
                conn.events.put_nowait(ControlEvent("stats", utc_now_iso(), data))
        live = {id(c) for c in self.server.connections}
        for key in [k for k in self.stats_due if k not in live]:
            del self.stats_due[key]

    # -- commands ------------------------------------------------------------------------

    async def _handle(self, request: ControlRequest, conn: Connection) -> Any:
        return await dispatch(self, request, conn)

    def active(self) -> TrainingRun:
        if self.run is None or self.run_task is None or self.run_task.done():
            raise CommandError(E_NOT_RUNNING, "no active run; start one with holdemctl start")
        return self.run

    def _live_run(self) -> TrainingRun | None:
        """The active run, whose live tables a look-up reads (None when idle)."""
        if self.run is None or self.run_task is None or self.run_task.done():
            return None
        return self.run

    def keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a reference to a background task, or it may be collected mid-way."""
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def status_result(self) -> dict[str, Any]:
        run = None
        if self.run is not None:
            run = {**status_to_dict(self.run.status()), "run_dir": str(self.run.run_dir)}
        return {
            "schema": STATUS_SCHEMA,
            "daemon": {
                "pid": os.getpid(),
                "version": __version__,
                "started_at": self.started_at,
                "uptime_s": time.monotonic() - self.started,
                "state_dir": str(self.state_dir),
                "socket": str(self.socket_path),
            },
            "run": run,
            "resumed_from": self.resumed_from if self.run is not None else None,
            "health": self._health(run),
            "past_runs": self._past_runs(),
        }

    def _health(self, run: dict[str, Any] | None) -> dict[str, str]:
        return health(
            run,
            last_run=self.last_run,
            recovery_error=self.recovery_error,
            starting=self.starting,
        )

    def workers_result(self) -> list[dict[str, Any]]:
        return status_to_dict(self.run.status())["workers"] if self.run else []

    async def stop(self, wait: bool) -> dict[str, Any]:
        """The ``stop`` command: a user's stop ends the run (no resume after a crash)."""
        if self.run is None or self.run_task is None or self.run_task.done():
            last = self.last_run or {}
            return {"changed": False, "state": last.get("state", "idle"), "snapshot": None}
        run = self.run
        changed = run.request_stop("holdemctl stop")
        if changed:
            self.record.clear()
            self.keep_record_on_end = False
        if not wait:
            return {"changed": changed, "state": "stopping", "snapshot": None}
        result = await asyncio.shield(self.run_task)
        path = str(result.snapshot.path) if result and result.snapshot else None
        return {"changed": changed, "state": run.state, "snapshot": path}

    def _past_runs(self) -> list[dict[str, Any]]:
        return past_runs(self.runs_root, PAST_RUNS_LISTED)

    def _newest_run(self) -> Path:
        runs = self._past_runs()
        if not runs:
            raise CommandError(E_BAD_REQUEST, f"no past run in {self.runs_root} to resume")
        return Path(runs[0]["run_dir"])
