"""The control commands (docs/control.md): one registry, name -> handler.

Each entry says whether the command changes anything (mutating commands need the daemon's uid
or root; the rest are open to ``--socket-group`` members too), which arguments it takes, and
what it does in one line; the dispatch, the permission set and the help text all come from it.
A handler gets the daemon (anything with the :class:`Daemon` surface, so tests can pass a fake)
and the request's checked arguments.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from holdemd import __version__
from holdemd.errors import HoldemdError
from holdemd.protocol.control import ControlRequest
from holdemd.protocol.errors import E_BAD_REQUEST, E_BUSY, E_UNKNOWN_COMMAND
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.rundir.status import UP_SLOT_STATES, RunStatus
from holdemd.service.control_server import CommandError, Connection
from holdemd.service.strategy import Query, StrategyLookups


class ActiveRun(Protocol):
    """What a command may ask of the active run (``training.run.TrainingRun``)."""

    run_id: str
    run_dir: Path

    @property
    def iteration(self) -> int: ...

    @property
    def snapshot_in_progress(self) -> bool: ...

    def status(self) -> RunStatus: ...

    async def pause(self) -> bool: ...

    async def resume(self) -> bool: ...

    async def snapshot_now(self) -> SnapshotInfo | None: ...


class Daemon(Protocol):
    """What the commands need of the daemon (``service.daemon.Service``)."""

    lookups: StrategyLookups

    def active(self) -> ActiveRun: ...

    def status_result(self) -> dict[str, Any]: ...

    def workers_result(self) -> list[dict[str, Any]]: ...

    async def start(
        self, config: Path | None, overrides: dict[str, Any], resume: Path | bool | None
    ) -> ActiveRun: ...

    async def stop(self, wait: bool) -> dict[str, Any]: ...

    def request_shutdown(self, why: str) -> bool: ...

    def keep(self, task: asyncio.Task[Any]) -> None: ...


Args = dict[str, Any]
HandlerFn = Callable[[Daemon, Args, Connection], Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    name: str
    mutating: bool
    args: frozenset[str]
    help: str
    handler: HandlerFn


COMMANDS: dict[str, Command] = {}


def command(
    name: str, *, mutating: bool, help: str, args: tuple[str, ...] = ()
) -> Callable[[HandlerFn], HandlerFn]:
    def register(handler: HandlerFn) -> HandlerFn:
        COMMANDS[name] = Command(name, mutating, frozenset(args), help, handler)
        return handler

    return register


async def dispatch(daemon: Daemon, request: ControlRequest, conn: Connection) -> Any:
    """Run ``request`` on ``daemon``; CommandError for an unknown command or argument."""
    found = COMMANDS.get(request.cmd)
    if found is None:
        raise CommandError(
            E_UNKNOWN_COMMAND,
            f"unknown command {request.cmd!r:.40}; known: {' '.join(COMMANDS)}",
        )
    extra = sorted(str(k)[:40] for k in set(request.args) - found.args)
    if extra:
        known = ", ".join(sorted(found.args)) or "none"
        raise CommandError(E_BAD_REQUEST, f"unknown argument(s) {', '.join(extra)}; known: {known}")
    return await found.handler(daemon, request.args, conn)


def mutating_commands() -> frozenset[str]:
    """What only the daemon's uid or root may do."""
    return frozenset(c.name for c in COMMANDS.values() if c.mutating)


def help_lines() -> list[str]:
    return [f"{c.name:10} {c.help}" for c in COMMANDS.values()]


def _bool(args: Args, name: str, default: bool) -> bool:
    value = args.get(name, default)
    if not isinstance(value, bool):
        raise CommandError(E_BAD_REQUEST, f"'{name}' must be true or false")
    return value


# --------------------------------------------------------------------------------------------


@command("ping", mutating=False, help="is the daemon there: its pid and version")
async def ping(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return {"pong": True, "pid": os.getpid(), "version": __version__}


@command("status", mutating=False, help="the daemon, its run, health and past runs")
async def status(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return daemon.status_result()


@command("workers", mutating=False, help="the active run's worker processes")
async def workers(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return {"workers": daemon.workers_result()}


@command(
    "start",
    mutating=True,
    help="start a run (a config, overrides) or resume one",
    args=("config", "resume", "overrides"),
)
async def start(daemon: Daemon, args: Args, conn: Connection) -> Any:
    config = args.get("config")
    resume = args.get("resume")
    overrides = args.get("overrides", {})
    if config is not None and not isinstance(config, str):
        raise CommandError(E_BAD_REQUEST, "'config' must be a path string")
    if resume is not None and not isinstance(resume, (str, bool)):
        raise CommandError(E_BAD_REQUEST, "'resume' must be a path string or true")
    if not isinstance(overrides, dict):
        raise CommandError(E_BAD_REQUEST, "'overrides' must be an object")
    where = Path(resume) if isinstance(resume, str) else resume
    try:
        run = await daemon.start(Path(config) if config else None, overrides, where)
    except HoldemdError as exc:
        raise CommandError(E_BAD_REQUEST, str(exc)) from exc
    return {"changed": True, "run_id": run.run_id, "run_dir": str(run.run_dir)}


@command("pause", mutating=True, help="workers finish their batch and idle; the clock stops")
async def pause(daemon: Daemon, args: Args, conn: Connection) -> Any:
    changed = await daemon.active().pause()
    return {"changed": changed, "state": "paused"}


@command("resume", mutating=True, help="undo pause")
async def resume(daemon: Daemon, args: Args, conn: Connection) -> Any:
    changed = await daemon.active().resume()
    return {"changed": changed, "state": "running"}


@command("stop", mutating=True, help="stop the run with a final snapshot", args=("wait",))
async def stop(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return await daemon.stop(_bool(args, "wait", False))


@command("snapshot", mutating=True, help="write a snapshot now", args=("wait",))
async def snapshot(daemon: Daemon, args: Args, conn: Connection) -> Any:
    wait = _bool(args, "wait", True)
    run = daemon.active()
    if run.snapshot_in_progress:
        raise CommandError(E_BUSY, "a snapshot is being written; try again in a moment")
    if not wait:
        daemon.keep(asyncio.create_task(run.snapshot_now()))
        return {"path": None, "iteration": run.iteration, "pending": True}
    info = await run.snapshot_now()
    if info is None:
        raise CommandError(E_BUSY, "the snapshot could not be written; see the run's log")
    return {"path": str(info.path), "iteration": info.iteration or 0, "pending": False}


@command("shutdown", mutating=True, help="stop any run (final snapshot) and exit")
async def shutdown(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return {"changed": daemon.request_shutdown("holdemctl shutdown")}


@command(
    "subscribe", mutating=False, help="events until the client disconnects", args=("interval",)
)
async def subscribe(daemon: Daemon, args: Args, conn: Connection) -> Any:
    interval = args.get("interval", 2.0)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise CommandError(E_BAD_REQUEST, "'interval' must be a number of seconds")
    if not 0.2 <= interval <= 3600:
        raise CommandError(E_BAD_REQUEST, "'interval' must be between 0.2 and 3600 seconds")
    conn.subscribe(float(interval))
    return {"subscribed": True}


LOOKUP_ARGS = ("board", "history", "seat", "snapshot", "run")
MAX_LOOKUP_ARG = 1000  # characters; a history of a whole hand is far shorter


def _text(args: Args, name: str, *, required: bool = False) -> str | None:
    value = args.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise CommandError(E_BAD_REQUEST, f"'{name}' must be a{' non-empty' * required} string")
    if len(value) > MAX_LOOKUP_ARG:
        raise CommandError(E_BAD_REQUEST, f"'{name}' is over {MAX_LOOKUP_ARG} characters")
    return value


def _query(args: Args, hand: bool) -> Query:
    return Query(
        hand=_text(args, "hand", required=True) if hand else None,
        board=_text(args, "board") or "",
        history=_text(args, "history"),
        seat=_text(args, "seat"),
        snapshot=_text(args, "snapshot"),
        run=_text(args, "run"),
    )


@command(
    "strategy",
    mutating=False,
    help="what the blueprint plays with one hand at one decision (live tables or a snapshot)",
    args=("hand", *LOOKUP_ARGS),
)
async def strategy(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return await daemon.lookups.show(_query(args, hand=True))


@command(
    "range",
    mutating=False,
    help="each player's range at one decision, as range strings",
    args=LOOKUP_ARGS,
)
async def range_(daemon: Daemon, args: Args, conn: Connection) -> Any:
    return await daemon.lookups.range(_query(args, hand=False))


def stats_event(status: RunStatus | None) -> dict[str, Any]:
    """A ``stats`` event's data from the active run's status (None when idle)."""
    if status is None:
        return {
            "iterations": 0,
            "iterations_per_s": 0.0,
            "elapsed_s": 0.0,
            "workers_alive": 0,
            "state": "idle",
        }
    return {
        "iterations": status.iterations,
        "iterations_per_s": status.iterations_per_s,
        "elapsed_s": status.elapsed_s,
        "workers_alive": sum(1 for w in status.workers if w.state in UP_SLOT_STATES),
        "state": status.state,
    }
