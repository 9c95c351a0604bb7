"""``holdemd serve``: the long-running daemon that trains one run at a time on command.

It holds an exclusive lock on its state directory (``lock``), serves the control socket
(``control_server``, docs/control.md; the commands are in ``commands``), and runs the same
``TrainingRun`` as ``holdemd train``. The active run is recorded (``active_run``) until it ends
by itself or a client stops it; a daemon that starts and finds that record (it was killed, the
machine rebooted, systemd restarted it) resumes the run from its last snapshot, so at most one
snapshot interval of work is lost.

Under systemd it speaks the notify protocol: READY=1 once the socket is bound, STATUS= every
few seconds, WATCHDOG=1 only while its loop and the run's loop keep ticking, STOPPING=1 and
extended stop timeouts while a final snapshot is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd import __version__
from holdemd.config.loader import load_config
from holdemd.config.overrides import dotted_overrides
from holdemd.errors import HoldemdError
from holdemd.protocol.control import ControlEvent, ControlRequest
from holdemd.protocol.errors import E_BAD_REQUEST, E_BUSY, E_NOT_RUNNING
from holdemd.protocol.paths import SOCKET_NAME
from holdemd.rundir.logs import RunLog, reopen_log_files
from holdemd.rundir.status import past_runs, status_line, status_to_dict, utc_now_iso
from holdemd.service.active_run import ActiveRunRecord
from holdemd.service.commands import dispatch, mutating_commands, stats_event
from holdemd.service.control_server import CommandError, Connection, ControlServer
from holdemd.service.health import health
from holdemd.service.lock import DaemonLock
from holdemd.service.sd_notify import Notifier
from holdemd.service.strategy import StrategyLookups
from holdemd.training.plan import build_run, plan_game, plan_run
from holdemd.training.run import TrainingResult, TrainingRun

log = logging.getLogger("holdemd.service")

STATUS_SCHEMA = 1
HOUSEKEEPING_SECONDS = 0.5
NOTIFY_STATUS_SECONDS = 5.0
FINAL_SNAPSHOT_EXTENSION = 120.0  # seconds asked of systemd while the final snapshot is written
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
        self._keep_record = False  # the active run outlives this daemon (shutdown, not stop)
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
            await self._recover()
            await self._housekeeping()
            await self._stop_run(f"daemon shutdown ({self.shutdown_reason})", keep_record=True)
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

    # -- runs ----------------------------------------------------------------------------

    async def _recover(self) -> None:
        """Resume the run a previous daemon left active (crash, kill, reboot)."""
        record = self.record.read()
        if record is None:
            return
        run_dir = Path(record["run_dir"])
        try:
            from holdemd.rundir.store import latest_snapshot

            snapshot = latest_snapshot(run_dir) if run_dir.is_dir() else None
            if snapshot is None:
                log.warning("active run %s has no snapshot yet: starting it again", run_dir)
                await self._start_run(
                    Path(record["config"]), record.get("overrides", {}), None, run_dir
                )
                self.resumed_from = None
            else:
                log.info("resuming the active run %s", run_dir)
                sup = await self._start_run(None, {}, run_dir, None)
                # The snapshot used: the newest that verified, maybe not the newest on disk.
                self.resumed_from = str(sup.resumed_from) if sup.resumed_from else None
        except (HoldemdError, KeyError, TypeError) as exc:
            # The record stays: the run's snapshots are still there, and the next daemon
            # start (after the cause is fixed) tries again. A new `start` replaces it.
            self.recovery_error = f"cannot resume the active run {run_dir}: {exc}"
            log.error(
                "%s; it stays recorded in %s and is tried again when the daemon restarts",
                self.recovery_error,
                self.record.path,
            )

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
        return await self._start_run(config, overrides, where, None)

    async def _start_run(
        self,
        config: Path | None,
        overrides: dict[str, Any],
        resume: Path | None,
        logdir: Path | None,
    ) -> TrainingRun:
        if self.starting or (self.run_task is not None and not self.run_task.done()):
            raise CommandError(E_BUSY, self._busy_message())
        self.starting = True
        try:
            dotted = dotted_overrides(overrides)
            plan = await asyncio.to_thread(
                plan_run, config, dotted, resume=resume, logdir=logdir, runs_root=self.runs_root
            )
            game = await asyncio.to_thread(plan_game, plan)
            plan = dataclasses.replace(
                plan,
                options=dataclasses.replace(
                    plan.options,
                    handle_signals=False,
                    listen=self.options.listen,
                    keys=self.options.keys,
                ),
            )
            run = build_run(plan, on_event=self._publish, game=game)
        finally:
            self.starting = False
        self.record.write(plan.run_dir, config, overrides, utc_now_iso())
        self.run_log.attach(plan.run_dir)
        log.info("run %s started in %s", run.run_id, plan.run_dir)
        self.recovery_error = None
        self.run = run
        self.resumed_from = None
        self.run_task = asyncio.create_task(self._train(run))
        return run

    async def _train(self, supervisor: TrainingRun) -> TrainingResult | None:
        result: TrainingResult | None = None
        try:
            result = await supervisor.run()
            log.info(
                "run %s %s after %s iterations (%s)",
                supervisor.run_id,
                supervisor.state,
                f"{result.iterations:,}",
                result.stopped_by,
            )
        except HoldemdError as exc:
            log.error("run %s failed: %s", supervisor.run_id, exc)
        except KeyboardInterrupt:  # the supervisor's "forced" path
            log.warning("run %s stopped without a final snapshot", supervisor.run_id)
        except Exception:
            log.exception("run %s crashed", supervisor.run_id)
        finally:
            self.last_run = {
                **status_to_dict(supervisor.status()),
                "run_dir": str(supervisor.run_dir),
            }
            # Only a run that spent its budget is over. One that failed (say, its disk filled
            # past what retries could wait out) stays recorded, so the next daemon resumes it
            # from its last good snapshot; a user's stop has cleared the record already.
            spent = result is not None and result.stopped_by in ("iterations", "time budget")
            if spent and not self._keep_record:
                self.record.clear()
            self.run = None
            self.lookups.forget(supervisor)
            self.run_log.detach()
        return result

    async def _stop_run(self, why: str, *, keep_record: bool) -> TrainingResult | None:
        """Stop the active run with a final snapshot; ``keep_record`` makes the next daemon
        resume it (a daemon shutdown is not the end of the run, a user's stop is)."""
        if self.run_task is None or self.run_task.done():
            return None
        self._keep_record = keep_record
        assert self.run is not None
        # systemd kills a stop that outlasts its timeout: a shutdown gives up retrying a
        # failing final snapshot before that (the next daemon resumes from the last good one).
        patience = FINAL_SNAPSHOT_EXTENSION / 2 if keep_record else None
        self.run.request_stop(why, final_snapshot_patience=patience)
        self.notifier.extend_timeout(FINAL_SNAPSHOT_EXTENSION)
        try:
            return await asyncio.shield(self.run_task)
        finally:
            self._keep_record = False

    def _busy_message(self) -> str:
        if self.starting:
            return "a run is starting (loading the game); wait for it, then try again"
        sup = self.run
        what = f"run {sup.run_id} is {sup.state}" if sup else "a run is active"
        return f"{what}; stop it first (holdemctl stop --wait)"

    # -- events --------------------------------------------------------------------------

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
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
            self._keep_record = False
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
