"""``holdemd serve``: the long-running daemon that trains one run at a time on command.

It holds an exclusive lock on its state directory, serves the control socket
(docs/control.md), and runs the same `Supervisor` as ``holdemd train``. The active run is
recorded in ``STATE/active-run.json`` until it ends by itself or a client stops it; a daemon
that starts and finds that record (it was killed, the machine rebooted, systemd restarted it)
resumes the run from its last snapshot, so at most one snapshot interval of work is lost.

Under systemd it speaks the notify protocol: READY=1 once the socket is bound, STATUS= every
few seconds, WATCHDOG=1 only while its loop and the supervisor's loop keep ticking, STOPPING=1
and extended stop timeouts while a final snapshot is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from holdemd import __version__
from holdemd.config.loader import load_config
from holdemd.config.overrides import dotted_overrides
from holdemd.errors import HoldemdError, UsageError
from holdemd.protocol.control import ControlEvent, ControlRequest
from holdemd.protocol.errors import E_BAD_REQUEST, E_BUSY, E_NOT_RUNNING, E_UNKNOWN_COMMAND
from holdemd.protocol.paths import SOCKET_NAME
from holdemd.rundir.atomic import write_text_atomic
from holdemd.rundir.logs import ResilientFileHandler
from holdemd.rundir.status import (
    TROUBLED_SLOT_STATES,
    UP_SLOT_STATES,
    read_status,
    status_line,
    status_to_dict,
    utc_now_iso,
)
from holdemd.service.control_server import CommandError, Connection, ControlServer
from holdemd.service.sd_notify import Notifier
from holdemd.training.plan import build_supervisor, plan_game, plan_run
from holdemd.training.run import Supervisor, TrainingResult

log = logging.getLogger("holdemd.service")

STATUS_SCHEMA = 1
LOCK_FILE = "holdemd.lock"
ACTIVE_RUN_FILE = "active-run.json"
MUTATING = frozenset({"start", "pause", "resume", "stop", "snapshot", "shutdown"})
HOUSEKEEPING_SECONDS = 0.5
NOTIFY_STATUS_SECONDS = 5.0
STUCK_SECONDS = 30.0  # the supervisor's loop silent this long (and not snapshotting): unhealthy
FINAL_SNAPSHOT_EXTENSION = 120.0  # seconds asked of systemd while the final snapshot is written
PAST_RUNS_LISTED = 20


@dataclass(frozen=True)
class ServiceOptions:
    state_dir: Path
    runtime_dir: Path
    default_config: Path | None = None  # `start` without a config uses this one
    socket_group: int | None = None  # read-only access for this group (socket mode 0660)


class DaemonLock:
    """``STATE/holdemd.lock``, held with flock for the daemon's life; the kernel drops it when
    the process dies, however it dies, so a stale file never blocks a restart."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        f = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise HoldemdError(
                f"another holdemd serve (pid {holder}) holds {self.path}; stop it "
                "(holdemctl shutdown) or give this one another --state-dir"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Service:
    def __init__(self, options: ServiceOptions, notifier: Notifier | None = None) -> None:
        self.options = options
        self.state_dir = options.state_dir
        self.runs_root = options.state_dir / "runs"
        self.socket_path = options.runtime_dir / SOCKET_NAME
        self.notifier = notifier or Notifier.from_env()
        self.lock = DaemonLock(options.state_dir)
        self.server = ControlServer(
            self.socket_path, self._handle, MUTATING, group=options.socket_group
        )
        self.started_at = utc_now_iso()
        self.started = time.monotonic()
        self.supervisor: Supervisor | None = None
        self.run_task: asyncio.Task[TrainingResult | None] | None = None
        self.starting = False  # a start is loading the game: another start is E_BUSY
        self.resumed_from: str | None = None
        self.last_run: dict[str, Any] | None = None  # the previous run's final status
        self.shutdown = asyncio.Event()
        self.shutdown_reason = ""
        self.stats_due: dict[int, float] = {}  # id(connection) -> next stats event
        self.run_log: logging.Handler | None = None
        self.background: set[asyncio.Task[Any]] = set()
        self._keep_record = False  # the active run outlives this daemon (shutdown, not stop)
        self.recovery_error: str | None = None  # why the recorded active run did not resume

    # -- lifecycle -----------------------------------------------------------------------

    async def serve(self) -> int:
        self.lock.acquire()  # before binding anything: a second daemon stops here
        try:
            await self.server.start()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._request_shutdown, signal.Signals(sig).name)
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
            self._close_run_log()
            self.lock.release()

    def _request_shutdown(self, why: str) -> None:
        if self.shutdown.is_set():
            log.warning("%s again: already shutting down", why)
            return
        log.info("shutting down (%s): the active run writes a final snapshot first", why)
        self.shutdown_reason = why
        self.notifier.stopping("stopping: final snapshot")
        self.shutdown.set()

    def _reload(self) -> None:
        """SIGHUP: reopen log files (for logrotate) and re-check the default config."""
        self.notifier.reloading()
        for handler in logging.getLogger("holdemd").handlers:
            if isinstance(handler, logging.FileHandler):
                handler.acquire()
                try:
                    handler.close()  # the next record reopens the file by its path
                finally:
                    handler.release()
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
        """Our loop runs (we are here); the supervisor's must tick too, unless it is between
        phases (starting, stopping) or writing a snapshot, which take as long as they take."""
        sup = self.supervisor
        if sup is None or sup.state not in ("running", "paused", "degraded"):
            return True
        return sup.snapshot_in_progress or now - sup.last_tick < STUCK_SECONDS

    def _notify_status(self) -> str:
        if self.supervisor is not None:
            return status_line(self.supervisor.status())
        return "idle: no active run"

    # -- runs ----------------------------------------------------------------------------

    async def _recover(self) -> None:
        """Resume the run a previous daemon left active (crash, kill, reboot)."""
        record = self._read_active_record()
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
                self.resumed_from = str(sup.resume_source) if sup.resume_source else None
        except (HoldemdError, KeyError, TypeError) as exc:
            # The record stays: the run's snapshots are still there, and the next daemon
            # start (after the cause is fixed) tries again. A new `start` replaces it.
            self.recovery_error = f"cannot resume the active run {run_dir}: {exc}"
            log.error(
                "%s; it stays recorded in %s and is tried again when the daemon restarts",
                self.recovery_error,
                self._active_record_path(),
            )

    async def _start_run(
        self,
        config: Path | None,
        overrides: dict[str, Any],
        resume: Path | None,
        logdir: Path | None,
    ) -> Supervisor:
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
                plan, options=dataclasses.replace(plan.options, handle_signals=False)
            )
            supervisor = build_supervisor(plan, on_event=self._publish, game=game)
        finally:
            self.starting = False
        self._write_active_record(
            {
                "run_dir": str(plan.run_dir.resolve()),
                "config": str(config.resolve()) if config else None,
                "overrides": overrides,
                "started_at": utc_now_iso(),
            }
        )
        self._open_run_log(plan.run_dir)
        log.info("run %s started in %s", supervisor.run_id, plan.run_dir)
        self.recovery_error = None
        self.supervisor = supervisor
        self.resumed_from = None
        self.run_task = asyncio.create_task(self._run(supervisor))
        return supervisor

    async def _run(self, supervisor: Supervisor) -> TrainingResult | None:
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
                self._clear_active_record()
            self.supervisor = None
            self._close_run_log()
        return result

    async def _stop_run(self, why: str, *, keep_record: bool) -> TrainingResult | None:
        """Stop the active run with a final snapshot; ``keep_record`` makes the next daemon
        resume it (a daemon shutdown is not the end of the run, a user's stop is)."""
        if self.run_task is None or self.run_task.done():
            return None
        self._keep_record = keep_record
        assert self.supervisor is not None
        if keep_record:
            # systemd kills a stop that outlasts its timeout: give up retrying a failing final
            # snapshot before that (the next daemon resumes from the last good one).
            self.supervisor.final_snapshot_patience = FINAL_SNAPSHOT_EXTENSION / 2
        self.supervisor.request_stop(why)
        self.notifier.extend_timeout(FINAL_SNAPSHOT_EXTENSION)
        try:
            return await asyncio.shield(self.run_task)
        finally:
            self._keep_record = False

    def _busy_message(self) -> str:
        if self.starting:
            return "a run is starting (loading the game); wait for it, then try again"
        sup = self.supervisor
        what = f"run {sup.run_id} is {sup.state}" if sup else "a run is active"
        return f"{what}; stop it first (holdemctl stop --wait)"

    def _active_record_path(self) -> Path:
        return self.state_dir / ACTIVE_RUN_FILE

    def _write_active_record(self, record: dict[str, Any]) -> None:
        write_text_atomic(self._active_record_path(), json.dumps(record, indent=2) + "\n")

    def _read_active_record(self) -> dict[str, Any] | None:
        path = self._active_record_path()
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("%s: unreadable (%s); no run to resume", path, exc)
            return None
        return record if isinstance(record, dict) and "run_dir" in record else None

    def _clear_active_record(self) -> None:
        self._active_record_path().unlink(missing_ok=True)

    def _open_run_log(self, run_dir: Path) -> None:
        self._close_run_log()
        path = run_dir / "logs" / "train.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = ResilientFileHandler(str(path))
        logging.getLogger("holdemd").addHandler(handler)
        self.run_log = handler

    def _close_run_log(self) -> None:
        if self.run_log is not None:
            logging.getLogger("holdemd").removeHandler(self.run_log)
            self.run_log.close()
            self.run_log = None

    # -- events --------------------------------------------------------------------------

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
        self.server.publish(ControlEvent(kind, utc_now_iso(), data))

    def _publish_stats(self, now: float) -> None:
        for conn in self.server.subscribers():
            due = self.stats_due.get(id(conn), 0.0)
            if now < due:
                continue
            self.stats_due[id(conn)] = now + conn.stats_interval
            sup = self.supervisor
            data: dict[str, Any] = {
                "iterations": sup.iteration if sup else 0,
                "iterations_per_s": sup.rate if sup else 0.0,
                "elapsed_s": sup.elapsed() if sup else 0.0,
                "workers_alive": sum(1 for s in sup.slots if s.state in UP_SLOT_STATES)
                if sup
                else 0,
                "state": sup.state if sup else "idle",
            }
            with contextlib.suppress(asyncio.QueueFull):
                assert conn.events is not None
                conn.events.put_nowait(ControlEvent("stats", utc_now_iso(), data))
        live = {id(c) for c in self.server.connections}
        for key in [k for k in self.stats_due if k not in live]:
            del self.stats_due[key]

    # -- commands ------------------------------------------------------------------------

    async def _handle(self, request: ControlRequest, conn: Connection) -> Any:
        handler = getattr(self, f"_cmd_{request.cmd}", None)
        if handler is None:
            raise CommandError(
                E_UNKNOWN_COMMAND,
                f"unknown command {request.cmd!r:.40}; known: "
                "ping status workers start pause resume stop snapshot shutdown subscribe",
            )
        return await handler(request.args, conn)

    async def _cmd_ping(self, args: dict[str, Any], conn: Connection) -> Any:
        _no_args(args)
        return {"pong": True, "pid": os.getpid(), "version": __version__}

    async def _cmd_status(self, args: dict[str, Any], conn: Connection) -> Any:
        _no_args(args)
        sup = self.supervisor
        run = None
        if sup is not None:
            run = {**status_to_dict(sup.status()), "run_dir": str(sup.run_dir)}
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
            "resumed_from": self.resumed_from if sup is not None else None,
            "health": self._health(run),
            "past_runs": self._past_runs(),
        }

    def _health(self, run: dict[str, Any] | None) -> dict[str, str]:
        if run is None:
            if self.recovery_error is not None:
                # The recorded run did not come back: training stopped without anyone asking.
                return {"status": "critical", "message": f"idle; {self.recovery_error}"}
            last = self.last_run
            # A run that ended badly stays a warning until the next run: a monitoring check
            # that polls after the end must still see that something went wrong.
            if last is not None and last.get("state") in ("failed", "degraded"):
                ended = "failed" if last["state"] == "failed" else "ended degraded"
                return {
                    "status": "warning",
                    "message": f"idle; last run {last.get('run_id')} {ended}: {last.get('reason')}",
                }
            if self.starting:
                return {"status": "ok", "message": "a run is starting"}
            return {"status": "ok", "message": "idle: no active run"}
        state = run["state"]
        if state == "failed":
            return {"status": "critical", "message": f"run failed: {run.get('reason')}"}
        if state == "stopping" and run.get("reason"):
            # Waiting for its final snapshot to be written (a full disk): work is at stake.
            return {"status": "critical", "message": f"stopping: {run['reason']}"}
        troubled = [w for w in run["workers"] if w["state"] in TROUBLED_SLOT_STATES]
        if state == "degraded" or troubled:
            why = run.get("reason") or f"{len(troubled)} worker(s) restarting or failed"
            return {"status": "warning", "message": f"{state}: {why}"}
        return {"status": "ok", "message": state}

    def _past_runs(self) -> list[dict[str, Any]]:
        if not self.runs_root.is_dir():
            return []
        dirs = sorted(
            (d for d in self.runs_root.iterdir() if d.is_dir()),
            key=lambda d: d.stat().st_mtime,
            reverse=True,
        )
        runs = []
        for run_dir in dirs[:PAST_RUNS_LISTED]:
            try:
                status = read_status(run_dir)
            except UsageError:
                continue
            runs.append(
                {
                    "run_id": status["run_id"],
                    "run_dir": str(run_dir),
                    "state": status["state"],
                    "iterations": status["iterations"],
                }
            )
        return runs

    async def _cmd_workers(self, args: dict[str, Any], conn: Connection) -> Any:
        _no_args(args)
        sup = self.supervisor
        return {"workers": status_to_dict(sup.status())["workers"] if sup else []}

    async def _cmd_start(self, args: dict[str, Any], conn: Connection) -> Any:
        _check_args(args, {"config", "resume", "overrides"})
        config = args.get("config")
        resume = args.get("resume")
        overrides = args.get("overrides", {})
        if config is not None and not isinstance(config, str):
            raise CommandError(E_BAD_REQUEST, "'config' must be a path string")
        if resume is not None and not isinstance(resume, (str, bool)):
            raise CommandError(E_BAD_REQUEST, "'resume' must be a path string or true")
        if not isinstance(overrides, dict):
            raise CommandError(E_BAD_REQUEST, "'overrides' must be an object")
        if config is None and not resume:
            if self.options.default_config is None:
                raise CommandError(
                    E_BAD_REQUEST, "start needs 'config' (holdemd serve has no --config default)"
                )
            config = str(self.options.default_config)
        resume_path = None
        if resume is True:
            resume_path = self._newest_run()
        elif isinstance(resume, str):
            resume_path = Path(resume)
        try:
            sup = await self._start_run(
                Path(config) if config else None, overrides, resume_path, None
            )
        except HoldemdError as exc:
            raise CommandError(E_BAD_REQUEST, str(exc)) from exc
        return {"changed": True, "run_id": sup.run_id, "run_dir": str(sup.run_dir)}

    def _newest_run(self) -> Path:
        runs = self._past_runs()
        if not runs:
            raise CommandError(E_BAD_REQUEST, f"no past run in {self.runs_root} to resume")
        return Path(runs[0]["run_dir"])

    def _active(self) -> Supervisor:
        if self.supervisor is None or self.run_task is None or self.run_task.done():
            raise CommandError(E_NOT_RUNNING, "no active run; start one with holdemctl start")
        return self.supervisor

    async def _cmd_pause(self, args: dict[str, Any], conn: Connection) -> Any:
        _no_args(args)
        changed = await self._active().pause()
        return {"changed": changed, "state": "paused"}

    async def _cmd_resume(self, args: dict[str, Any], conn: Connection) -> Any:
        _no_args(args)
        changed = await self._active().resume()
        return {"changed": changed, "state": "running"}

    async def _cmd_stop(self, args: dict[str, Any], conn: Connection) -> Any:
        _check_args(args, {"wait"})
        wait = _bool_arg(args, "wait", False)
        if self.supervisor is None or self.run_task is None or self.run_task.done():
            last = self.last_run or {}
            return {"changed": False, "state": last.get("state", "idle"), "snapshot": None}
        sup = self.supervisor
        changed = sup.request_stop("holdemctl stop")
        if changed:
            self._clear_active_record()  # a user's stop ends the run: no resume after a crash
            self._keep_record = False
        if not wait:
            return {"changed": changed, "state": "stopping", "snapshot": None}
        result = await asyncio.shield(self.run_task)
        path = str(result.snapshot.path) if result and result.snapshot else None
        return {"changed": changed, "state": sup.state, "snapshot": path}

    async def _cmd_snapshot(self, args: dict[str, Any], conn: Connection) -> Any:
        _check_args(args, {"wait"})
        wait = _bool_arg(args, "wait", True)
        sup = self._active()
        if sup.snapshot_in_progress:
            raise CommandError(E_BUSY, "a snapshot is being written; try again in a moment")
        if not wait:
            task = asyncio.create_task(sup.snapshot_now())
            self.background.add(task)  # a reference, or the task may be collected mid-write
            task.add_done_callback(self.background.discard)
            return {"path": None, "iteration": sup.iteration, "pending": True}
        info = await sup.snapshot_now()
        if info is None:
            raise CommandError(E_BUSY, "the snapshot could not be written; see the run's log")
        return {"path": str(info.path), "iteration": info.iteration or 0, "pending": False}

    async def _cmd_shutdown(self, args: dict[str, Any], conn: Connection) -> Any:
        _no_args(args)
        changed = not self.shutdown.is_set()
        self._request_shutdown("holdemctl shutdown")
        return {"changed": changed}

    async def _cmd_subscribe(self, args: dict[str, Any], conn: Connection) -> Any:
        _check_args(args, {"interval"})
        interval = args.get("interval", 2.0)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)):
            raise CommandError(E_BAD_REQUEST, "'interval' must be a number of seconds")
        if not 0.2 <= interval <= 3600:
            raise CommandError(E_BAD_REQUEST, "'interval' must be between 0.2 and 3600 seconds")
        conn.subscribe(float(interval))
        return {"subscribed": True}


def _no_args(args: dict[str, Any]) -> None:
    _check_args(args, set())


def _check_args(args: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(str(k)[:40] for k in set(args) - allowed)
    if extra:
        known = ", ".join(sorted(allowed)) or "none"
        raise CommandError(E_BAD_REQUEST, f"unknown argument(s) {', '.join(extra)}; known: {known}")


def _bool_arg(args: dict[str, Any], name: str, default: bool) -> bool:
    value = args.get(name, default)
    if not isinstance(value, bool):
        raise CommandError(E_BAD_REQUEST, f"'{name}' must be true or false")
    return value
