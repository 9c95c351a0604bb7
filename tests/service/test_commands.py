"""The control commands against a fake daemon and a fake run, and the control server's framing,
permissions and error handling over a socket pair: no daemon process, no training."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from holdemd.errors import UsageError
from holdemd.protocol.control import ControlRequest
from holdemd.protocol.errors import (
    E_BAD_REQUEST,
    E_BUSY,
    E_INTERNAL,
    E_NOT_RUNNING,
    E_PERMISSION,
    E_TOO_LARGE,
    E_UNKNOWN_COMMAND,
)
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.service.commands import COMMANDS, dispatch, help_lines, mutating_commands
from holdemd.service.connection_limits import ConnectionLimits
from holdemd.service.control_server import CommandError, Connection, ControlServer
from holdemd.service.peercred import PeerCredentials


class FakeRun:
    run_id = "run-1"
    run_dir = Path("/runs/run-1")

    def __init__(self) -> None:
        self.paused = False
        self.busy = False
        self.snapshot: SnapshotInfo | None = SnapshotInfo("it-5", Path("/s/it-5"), 5, 100)
        self.snapshots_taken = 0

    @property
    def iteration(self) -> int:
        return 5

    @property
    def snapshot_in_progress(self) -> bool:
        return self.busy

    def status(self) -> Any:
        raise AssertionError("not used by these commands")

    async def pause(self) -> bool:
        changed = not self.paused
        self.paused = True
        return changed

    async def resume(self) -> bool:
        changed = self.paused
        self.paused = False
        return changed

    async def snapshot_now(self) -> SnapshotInfo | None:
        self.snapshots_taken += 1
        return self.snapshot


class FakeDaemon:
    def __init__(self, run: FakeRun | None = None) -> None:
        self.run = run
        self.started: list[tuple[Path | None, dict[str, Any], Path | bool | None]] = []
        self.shutdowns: list[str] = []
        self.kept: list[asyncio.Task[Any]] = []

    def active(self) -> FakeRun:
        if self.run is None:
            raise CommandError(E_NOT_RUNNING, "no active run")
        return self.run

    def status_result(self) -> dict[str, Any]:
        return {"schema": 1, "run": None}

    def workers_result(self) -> list[dict[str, Any]]:
        return [{"slot": 0}]

    async def start(
        self, config: Path | None, overrides: dict[str, Any], resume: Path | bool | None
    ) -> FakeRun:
        if overrides.get("speed"):
            raise UsageError("unknown override(s) speed")
        self.started.append((config, overrides, resume))
        self.run = FakeRun()
        return self.run

    async def stop(self, wait: bool) -> dict[str, Any]:
        return {"changed": True, "state": "finished" if wait else "stopping", "snapshot": None}

    def request_shutdown(self, why: str) -> bool:
        self.shutdowns.append(why)
        return len(self.shutdowns) == 1

    def keep(self, task: asyncio.Task[Any]) -> None:
        self.kept.append(task)


def call(daemon: FakeDaemon, cmd: str, **args: Any) -> Any:
    async def go() -> Any:
        result = await dispatch(daemon, ControlRequest(1, cmd, args), None)  # type: ignore[arg-type]
        await asyncio.gather(*daemon.kept)
        return result

    return asyncio.run(go())


def error_of(daemon: FakeDaemon, cmd: str, **args: Any) -> CommandError:
    with pytest.raises(CommandError) as info:
        call(daemon, cmd, **args)
    return info.value


# --------------------------------------------------------------------------------------------
# The registry


def test_the_registry_gives_the_permission_set_and_the_help() -> None:
    assert mutating_commands() == {"start", "pause", "resume", "stop", "snapshot", "shutdown"}
    read_only = {"ping", "status", "workers", "subscribe", "strategy", "range"}
    assert set(COMMANDS) == mutating_commands() | read_only
    lines = help_lines()
    assert len(lines) == len(COMMANDS) and all(line.split()[0] in COMMANDS for line in lines)


def test_an_unknown_command_or_argument_is_refused_naming_the_known_ones() -> None:
    error = error_of(FakeDaemon(), "speed_up")
    assert error.code == E_UNKNOWN_COMMAND
    assert str(error).endswith("known: " + " ".join(COMMANDS))
    error = error_of(FakeDaemon(FakeRun()), "pause", force=True)
    assert (error.code, str(error)) == (E_BAD_REQUEST, "unknown argument(s) force; known: none")
    error = error_of(FakeDaemon(FakeRun()), "stop", now=1, wait=True)
    assert str(error) == "unknown argument(s) now; known: wait"


def test_commands_that_need_a_run_say_there_is_none() -> None:
    for cmd in ("pause", "resume", "snapshot"):
        assert error_of(FakeDaemon(), cmd).code == E_NOT_RUNNING


def test_pause_and_resume_go_to_the_run_and_say_whether_they_changed_anything() -> None:
    daemon = FakeDaemon(FakeRun())
    assert call(daemon, "pause") == {"changed": True, "state": "paused"}
    assert call(daemon, "pause") == {"changed": False, "state": "paused"}
    assert call(daemon, "resume") == {"changed": True, "state": "running"}


def test_snapshot_waits_or_not_and_says_busy_when_it_cannot() -> None:
    run = FakeRun()
    daemon = FakeDaemon(run)
    assert call(daemon, "snapshot") == {"path": "/s/it-5", "iteration": 5, "pending": False}
    assert call(daemon, "snapshot", wait=False) == {"path": None, "iteration": 5, "pending": True}
    assert run.snapshots_taken == 2  # the background one ran too
    assert error_of(daemon, "snapshot", wait="yes").code == E_BAD_REQUEST
    run.busy = True
    assert error_of(daemon, "snapshot").code == E_BUSY
    run.busy, run.snapshot = False, None  # it failed (a full disk): the run's log says why
    error = error_of(daemon, "snapshot")
    assert (error.code, str(error)) == (
        E_BUSY,
        "the snapshot could not be written; see the run's log",
    )


def test_start_checks_its_arguments_and_turns_a_usage_error_into_bad_request() -> None:
    daemon = FakeDaemon()
    assert call(daemon, "start", config="/c.yaml", overrides={"seed": 3}) == {
        "changed": True,
        "run_id": "run-1",
        "run_dir": "/runs/run-1",
    }
    assert daemon.started == [(Path("/c.yaml"), {"seed": 3}, None)]
    call(daemon, "start", resume=True)
    assert daemon.started[-1] == (None, {}, True)
    for args, message in (
        ({"config": 3}, "'config' must be a path string"),
        ({"resume": 1.5}, "'resume' must be a path string or true"),
        ({"overrides": []}, "'overrides' must be an object"),
        ({"overrides": {"speed": 11}}, "unknown override(s) speed"),
    ):
        error = error_of(daemon, "start", **args)
        assert (error.code, str(error)) == (E_BAD_REQUEST, message)


def test_shutdown_stop_status_workers_ping() -> None:
    daemon = FakeDaemon(FakeRun())
    assert call(daemon, "shutdown") == {"changed": True}
    assert call(daemon, "shutdown") == {"changed": False}
    assert call(daemon, "stop", wait=True)["state"] == "finished"
    assert call(daemon, "status") == {"schema": 1, "run": None}
    assert call(daemon, "workers") == {"workers": [{"slot": 0}]}
    assert call(daemon, "ping")["pid"] == os.getpid()


# --------------------------------------------------------------------------------------------
# The control server over a socket pair


async def _echo(request: ControlRequest, conn: Connection) -> Any:
    if request.cmd == "explode":
        raise RuntimeError("a bug")
    return {"cmd": request.cmd, "args": request.args}


def _converse(
    lines: list[bytes], peer: PeerCredentials, group: int | None = None
) -> list[dict[str, Any]]:
    """Send ``lines`` to a control server over a socket pair; the replies, until it closes."""

    async def go() -> list[dict[str, Any]]:
        server = ControlServer(
            Path("/unused"),
            _echo,
            frozenset({"stop"}),
            group=group,
            limits=ConnectionLimits.for_fd_limit(1024),
        )
        ours, theirs = socket.socketpair()
        serving = asyncio.create_task(server._serve(theirs, peer))
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        for line in lines:
            writer.write(line)
        writer.write_eof()
        replies = []
        while line := await reader.readline():
            replies.append(json.loads(line))
        writer.close()
        await serving
        return replies

    return asyncio.run(go())


ME = PeerCredentials(uid=os.getuid(), gid=os.getgid())
OTHER = PeerCredentials(uid=65534, gid=65534, groups=frozenset({65534}))


def _request(cmd: str, rid: int = 1) -> bytes:
    return json.dumps({"v": 1, "id": rid, "cmd": cmd, "args": {}}).encode() + b"\n"


def test_each_line_gets_its_reply_and_a_bug_is_an_internal_error_not_a_lost_connection() -> None:
    replies = _converse(
        [_request("ping", 1), b"{not json\n", _request("explode", 2), _request("stop", 3)[:-1]],
        ME,
    )
    assert replies[0] == {"v": 1, "id": 1, "ok": True, "result": {"cmd": "ping", "args": {}}}
    assert replies[1]["ok"] is False and replies[1]["error"]["code"] == "E_BAD_JSON"
    assert replies[2]["error"]["code"] == E_INTERNAL
    assert replies[2]["error"]["message"].startswith("internal error in explode: RuntimeError")
    assert replies[3]["result"]["cmd"] == "stop"  # the last line had no newline: still answered
    assert len(replies) == 4


def test_a_line_over_the_limit_is_refused_and_the_connection_closed() -> None:
    replies = _converse([b"x" * 70_000 + b"\n", _request("ping")], ME)
    assert len(replies) == 1 and replies[0]["error"]["code"] == E_TOO_LARGE


def test_other_users_may_not_mutate_and_read_only_with_the_group() -> None:
    denied = _converse([_request("stop"), _request("status")], OTHER)
    assert [r["error"]["code"] for r in denied] == [E_PERMISSION, E_PERMISSION]
    assert "stop is allowed only for uid" in denied[0]["error"]["message"]
    grouped = _converse([_request("stop"), _request("status")], OTHER, group=65534)
    assert grouped[0]["error"]["code"] == E_PERMISSION
    assert grouped[1]["ok"] is True
