"""holdemctl against no daemon and against a tiny real Unix-socket server written here.

The server speaks docs/control.md with canned replies, through the same encode/parse functions
as the daemon, so these tests pin the client's side of the contract: requests, exit codes,
output. The real daemon with the real client: tests/daemon/test_service_e2e.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from holdemctl import render
from holdemctl.cli import main
from holdemctl.connection import ControlClient, DaemonError, NotRunning, Timeout, connect
from holdemctl.parser import build_parser

from holdemd.protocol.control import (
    ControlEvent,
    ControlReply,
    ControlRequest,
    encode_event,
    encode_reply,
    parse_request,
)
from holdemd.protocol.paths import (
    SOCKET_NAME,
    SYSTEM_SOCKET,
    default_runtime_dir,
    default_state_dir,
    socket_candidates,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-24T10:00:00.000+00:00"

WORKER = {
    "slot": 0,
    "pid": 4242,
    "incarnation": 0,
    "state": "running",
    "iterations": 600_000,
    "iterations_per_s": 5000.0,
    "last_heartbeat_age_s": 0.4,
    "rss_bytes": 300 * 1024 * 1024,
    "restarts": 0,
    "last_error": None,
    "last_traceback": None,
}
RUN = {
    "schema": 1,
    "run_id": "leduc-20261124-100000",
    "state": "running",
    "reason": None,
    "game": "leduc",
    "iterations": 1_234_567,
    "iterations_target": None,
    "iterations_per_s": 10_000.0,
    "elapsed_s": 3725.0,
    "time_budget_s": 28800.0,
    "eta_s": 25075.0,
    "workers": [WORKER, {**WORKER, "slot": 1, "pid": 4243}],
    "last_snapshot": {
        "name": "snapshot-000001200000",
        "path": "/state/runs/x/snapshots/snapshot-000001200000",
        "iteration": 1_200_000,
        "written_at": NOW,
    },
    "pid": 4000,
    "started_at": NOW,
    "updated_at": NOW,
    "dropped_messages": 0,
    "version": "0.1.0",
    "run_dir": "/state/runs/x",
}


def status_result(health: str = "ok", run: dict[str, Any] | None = RUN) -> dict[str, Any]:
    return {
        "schema": 1,
        "daemon": {
            "pid": 4000,
            "version": "0.1.0",
            "started_at": NOW,
            "uptime_s": 90.0,
            "state_dir": "/state",
            "socket": "/run/holdemd/control.sock",
        },
        "run": run,
        "resumed_from": None,
        "health": {"status": health, "message": "running" if health == "ok" else "degraded: x"},
        "past_runs": [],
    }


# --------------------------------------------------------------------------------------------
# A tiny control server

HANG = b"hang"  # a handler's line: stop answering, keep the connection open
CLOSE = b"close"  # a handler's line: close the connection

Handler = Callable[[ControlRequest], list[bytes]]


def ok(request: ControlRequest, result: Any) -> bytes:
    return encode_reply(ControlReply.success(request.id, result))


def failed(request: ControlRequest, code: str, message: str) -> bytes:
    return encode_reply(ControlReply.failure(request.id, code, message))


def event(kind: str, data: dict[str, Any]) -> bytes:
    return encode_event(ControlEvent(kind, NOW, data))


class FakeDaemon:
    """Accepts connections one at a time on a real socket; answers each request line with what
    ``handler`` returns for it and records the requests."""

    def __init__(self, handler: Handler, directory: Path | None = None) -> None:
        # AF_UNIX paths are limited to 108 bytes: /tmp, not pytest's tmp_path.
        self.dir = directory or Path(tempfile.mkdtemp(prefix="hc", dir="/tmp"))
        self.path = self.dir / SOCKET_NAME
        self.handler = handler
        self.requests: list[ControlRequest] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.path))
        self._listener.listen(8)
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            # A client that gave up (a timeout test) may be gone before its reply is sent.
            with conn, contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.settimeout(0.05)
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        buffer = b""
        hanging = False
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return  # the client hung up
            if hanging:
                continue
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = parse_request(line)
                self.requests.append(request)
                for out in self.handler(request):
                    if out == CLOSE:
                        return
                    if out == HANG:
                        hanging = True
                        break
                    conn.sendall(out)


@contextlib.contextmanager
def fake_daemon(handler: Handler, directory: Path | None = None) -> Iterator[FakeDaemon]:
    server = FakeDaemon(handler, directory)
    try:
        yield server
    finally:
        server.close()


def canned(results: dict[str, Any]) -> Handler:
    """Answer ``cmd`` with ``results[cmd]``; a callable value builds the lines itself."""

    def handle(request: ControlRequest) -> list[bytes]:
        value = results[request.cmd]
        return value(request) if callable(value) else [ok(request, value)]

    return handle


def ctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real holdemctl, as a process."""
    return subprocess.run(
        [sys.executable, "-m", "holdemctl", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """holdemctl's main() in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------
# protocol.paths


def test_socket_candidates_follow_the_documented_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("HOLDEMD_SOCKET", raising=False)
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/a:/run/b")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    assert socket_candidates(None) == [
        (Path("/run/a/control.sock"), "$RUNTIME_DIRECTORY"),
        (Path("/run/user/7/holdemd/control.sock"), "default runtime dir"),
        (SYSTEM_SOCKET, "system service"),
    ]
    assert default_runtime_dir() == Path("/run/a")
    monkeypatch.delenv("RUNTIME_DIRECTORY")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert default_runtime_dir() == Path(f"/tmp/holdemd-{os.getuid()}")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/dir")  # the XDG spec: ignore it
    assert default_runtime_dir() == Path(f"/tmp/holdemd-{os.getuid()}")


def test_a_named_socket_is_the_only_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/a")
    monkeypatch.setenv("HOLDEMD_SOCKET", "/x/y.sock")
    assert socket_candidates(None) == [(Path("/x/y.sock"), "$HOLDEMD_SOCKET")]
    assert socket_candidates("/z.sock") == [(Path("/z.sock"), "--socket")]  # beats the env


def test_socket_candidates_drop_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    # The system unit sets RUNTIME_DIRECTORY=/run/holdemd: the system socket is listed once.
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("HOLDEMD_SOCKET", raising=False)
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/holdemd")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    paths = [path for path, _ in socket_candidates(None)]
    assert paths == [SYSTEM_SOCKET, Path("/run/user/7/holdemd/control.sock")]


def test_state_dir_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", "/home/u")
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/holdemd:/var/lib/other")
    monkeypatch.setenv("XDG_STATE_HOME", "/xdg/state")
    assert default_state_dir() == Path("/var/lib/holdemd")
    monkeypatch.delenv("STATE_DIRECTORY")
    assert default_state_dir() == Path("/xdg/state/holdemd")
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_state_dir() == Path("/home/u/.local/state/holdemd")


def test_macos_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", "/Users/u")
    for name in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "HOLDEMD_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    base = Path("/Users/u/Library/Application Support/holdemd")
    assert default_state_dir() == base
    assert default_runtime_dir() == base / "run"
    assert socket_candidates(None)[0] == (base / "run" / SOCKET_NAME, "default runtime dir")


# --------------------------------------------------------------------------------------------
# No daemon, usage, start-up


def test_no_daemon_exits_3_naming_the_paths_tried(tmp_path: Path) -> None:
    env = {
        "HOLDEMD_SOCKET": "",
        "RUNTIME_DIRECTORY": str(tmp_path / "rt"),
        "XDG_RUNTIME_DIR": str(tmp_path / "xdg"),  # never a real daemon's
    }
    done = ctl("status", env=env)
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert str(tmp_path / "rt" / SOCKET_NAME) in done.stderr
    assert str(SYSTEM_SOCKET) in done.stderr
    assert "holdemd serve" in done.stderr and "--socket" in done.stderr

    health = ctl("health", env=env)
    assert health.returncode == 3
    assert health.stdout.startswith("HOLDEMD UNKNOWN - no daemon at ")


def test_a_socket_nobody_listens_on_is_not_running(capsys: pytest.CaptureFixture[str]) -> None:
    where = Path(tempfile.mkdtemp(prefix="hc", dir="/tmp"))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(where / SOCKET_NAME))  # bound, never listening: connect is refused
            code, out, err = run_main(capsys, "--socket", str(where), "--json", "ping")
    finally:
        shutil.rmtree(where)
    assert code == 3
    assert json.loads(out)["error"]["code"] == "E_NO_DAEMON"
    assert "nothing listening" in err


def test_usage_errors_exit_2() -> None:
    assert ctl().returncode == 2
    assert ctl("frobnicate").returncode == 2
    assert ctl("start", "--iterations", "many").returncode == 2
    assert ctl("start", "--time-budget", "soon").returncode == 2
    assert ctl("--timeout", "-1", "status").returncode == 2


def test_no_holdemctl_parser_takes_an_abbreviated_option() -> None:
    parser = build_parser()
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += action.choices.values()
    assert len(parsers) >= 12  # holdemctl and each of its commands
    assert [p.prog for p in parsers if p.allow_abbrev] == []
    # `--time` was --timeout or --time-budget, whichever argparse found unambiguous.
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["start", "c.yaml", "--time-budg", "8h"])
    assert exit_info.value.code == 2


def test_the_client_imports_neither_numpy_nor_numba_nor_msgpack() -> None:
    heavy = "{'numpy', 'numba', 'msgpack', 'zmq', 'yaml'}"
    code = f"import holdemctl.cli, sys; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr
    # Of holdemd: the protocol's control, errors and paths, the run flags' table, durations,
    # the status schema (its slot states), and the text of a strategy look-up (made from its
    # JSON with the standard library and format_bb).
    code = "import holdemctl.cli, sys; print(sorted(m for m in sys.modules if m.startswith('holdemd')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == str(
        [
            "holdemd",
            "holdemd.blueprint",
            "holdemd.blueprint.history",
            "holdemd.config",
            "holdemd.config.overrides",
            "holdemd.durations",
            "holdemd.errors",
            "holdemd.lookup",
            "holdemd.lookup.show_text",
            "holdemd.protocol",
            "holdemd.protocol.control",
            "holdemd.protocol.errors",
            "holdemd.protocol.paths",
            "holdemd.rundir",
            "holdemd.rundir.atomic",
            "holdemd.rundir.status",
        ]
    ), done.stdout


# --------------------------------------------------------------------------------------------
# Against the fake daemon


def test_status_json_is_exactly_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    result = status_result()
    with fake_daemon(canned({"status": result})) as server:
        done = ctl("--socket", str(server.path), "--json", "status")
        code, out, _ = run_main(capsys, "status", "--socket", str(server.path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == result
    assert code == 0 and json.loads(out) == result  # global options after the command too
    assert [r.cmd for r in server.requests] == ["status", "status"]


def test_status_and_workers_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    results = {"status": status_result(), "workers": {"workers": RUN["workers"]}}
    with fake_daemon(canned(results)) as server:
        code, out, _ = run_main(capsys, "--socket", str(server.path), "status")
        assert code == 0
        assert "leduc-20261124-100000" in out and "1,234,567" in out
        assert "1h02m05s elapsed of 8h00m00s" in out and "ETA 6h57m55s" in out
        assert "2 of 2 up" in out and "iteration 1,200,000" in out
        code, out, _ = run_main(capsys, "--socket", str(server.path), "workers")
    assert code == 0
    header, first, second = out.splitlines()
    assert header.split()[:3] == ["SLOT", "PID", "STATE"]
    assert "4242" in first and "600,000" in first and "300.0 MiB" in first
    assert "4243" in second


def test_status_shows_the_litmus_verdict() -> None:
    result = status_result()
    litmus = {"passed": 2, "failed": 1, "skipped": 0, "total": 3, "failing": ["aces-first-in"]}
    result["run"] = {**result["run"], "litmus": {**litmus, "iteration": 1_200_000}}
    lines = [line.split(None, 1) for line in render.status(result).splitlines()]
    assert ["litmus", "2 of 3 pass at iteration 1,200,000; failing: aces-first-in"] in lines
    result["run"]["litmus"] = {"error": "RuntimeError: boom", "iteration": 5}
    lines = [line.split(None, 1) for line in render.status(result).splitlines()]
    assert ["litmus", "could not run at iteration 5: RuntimeError: boom"] in lines
    assert "litmus" not in render.status(status_result())


LAZY_MEMORY = {
    "kind": "lazy",
    "bytes": 3 << 30,
    "capacity_bytes": 6 << 30,
    "entries": 700_000_000,
    "bytes_per_entry": 4.6,
    "regret_blocks": 420_000,
    "strategy_blocks": 35_000,
    "blocks": 2_100_000,
    "rows": 80_000_000,
    "total_rows": 207_000_000,
    "growth_bytes_per_h": 1.2 * (1 << 30),
    "available_bytes": int(3.8 * (1 << 30)),
    "runs_out_in_s": 3 * 3600 + 10 * 60,
    "warning": "table memory grows 1.2 GiB/h; available memory runs out in about 3 h 10 min",
}


def _rows_of(result: dict[str, Any]) -> dict[str, str]:
    return dict(line.split(None, 1) for line in render.status(result).splitlines())


def test_status_shows_the_table_memory_and_its_growth() -> None:
    result = status_result("warning")
    result["health"]["message"] = f"running: {LAZY_MEMORY['warning']}"
    result["run"] = {**result["run"], "table_memory": LAZY_MEMORY}
    rows = _rows_of(result)
    assert rows["tables"] == (
        "lazy, 3.0 GiB (at most 6.0 GiB): 420,000 of 2,100,000 regret blocks (20.0%), "
        "35,000 strategy-sum blocks, 4.60 bytes per entry"
    )
    assert rows["growth"] == "1.2 GiB/h, 3.8 GiB available, runs out in about 3 h 10 min"
    assert rows["health"] == (
        "WARNING: running: table memory grows 1.2 GiB/h; available memory runs out in "
        "about 3 h 10 min"
    )
    assert render.health(result)[0] == 1
    measuring = {**LAZY_MEMORY, "growth_bytes_per_h": None, "runs_out_in_s": None}
    result["run"]["table_memory"] = measuring
    assert _rows_of(result)["growth"] == "measuring"
    fits = {**LAZY_MEMORY, "runs_out_in_s": None, "warning": None}
    result["run"]["table_memory"] = fits
    assert _rows_of(result)["growth"] == "1.2 GiB/h, 3.8 GiB available"
    # First-round averaging: the later streets' sums are a file, shown beside the tables.
    result["run"]["table_memory"] = {**fits, "later_sums_bytes": int(2.5 * (1 << 30))}
    assert _rows_of(result)["tables"].endswith(
        "4.60 bytes per entry; later streets' sums 2.5 GiB on disk"
    )


def test_status_shows_dense_tables_as_a_fixed_size() -> None:
    result = status_result()
    dense = {
        **LAZY_MEMORY,
        "kind": "dense",
        "bytes": 6 << 30,
        "capacity_bytes": 6 << 30,
        "bytes_per_entry": 8.4,
        "growth_bytes_per_h": 0.0,
        "runs_out_in_s": None,
        "warning": None,
    }
    result["run"] = {**result["run"], "table_memory": dense}
    rows = _rows_of(result)
    assert rows["tables"] == "dense, 6.0 GiB (fixed size), 8.40 bytes per entry"
    assert "growth" not in rows
    assert "tables" not in _rows_of(status_result())  # a daemon that does not say


def test_idle_status_and_no_workers() -> None:
    idle = status_result(run=None)
    assert "none active" in render.status(idle)
    assert render.health(idle) == (0, "HOLDEMD OK - running")
    assert render.workers({"workers": []}).startswith("no active run")


def test_snapshot_age_is_shown() -> None:
    later = datetime(2026, 11, 24, 10, 5, 0, tzinfo=timezone.utc)
    assert "5m00s ago" in render.status(status_result(), now=later)


def test_an_error_reply_exits_1_with_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    def handle(request: ControlRequest) -> list[bytes]:
        return [failed(request, "E_NOT_RUNNING", "no active run; start one with holdemctl start")]

    with fake_daemon(handle) as server:
        done = ctl("--socket", str(server.path), "pause")
        code, out, err = run_main(capsys, "--socket", str(server.path), "--json", "pause")
    assert done.returncode == 1
    assert (
        done.stderr == "holdemctl: E_NOT_RUNNING: no active run; start one with holdemctl start\n"
    )
    assert code == 1
    assert json.loads(out) == {
        "ok": False,
        "error": {
            "code": "E_NOT_RUNNING",
            "message": "no active run; start one with holdemctl start",
        },
    }
    assert err.startswith("holdemctl: E_NOT_RUNNING: ")


def test_a_permission_reply_exits_5_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    def handle(request: ControlRequest) -> list[bytes]:
        return [failed(request, "E_PERMISSION", "uid 1001 may not stop the run")]

    with fake_daemon(handle) as server:
        code, _, err = run_main(capsys, "--socket", str(server.path), "stop")
    assert code == 5
    assert err.startswith("holdemctl: E_PERMISSION: uid 1001 may not stop the run (")
    assert "root" in err and err.count("\n") == 1


def test_no_reply_within_the_timeout_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    with fake_daemon(lambda request: [HANG]) as server:
        started = time.monotonic()
        code, _, err = run_main(capsys, "--socket", str(server.path), "--timeout", "0.5", "ping")
        waited = time.monotonic() - started
    assert code == 4 and "no reply to ping" in err
    assert 0.4 < waited < 3


def test_health_maps_the_status_to_plugin_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for health, expected in (("ok", 0), ("warning", 1), ("critical", 2), ("bogus", 3)):
        with fake_daemon(canned({"status": status_result(health)})) as server:
            code, out, _ = run_main(capsys, "--socket", str(server.path), "health")
        word = ("OK", "WARNING", "CRITICAL", "UNKNOWN")[expected]
        assert code == expected, health
        assert out.startswith(f"HOLDEMD {word} - ")
        assert out.rstrip().endswith("1,234,567 iterations, 2/2 workers")
    ok_line = render.health(status_result())[1]
    assert ok_line == "HOLDEMD OK - running, 1,234,567 iterations, 2/2 workers"


def test_health_on_an_error_reply_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    with fake_daemon(lambda request: [failed(request, "E_INTERNAL", "bug")]) as server:
        code, out, _ = run_main(capsys, "--socket", str(server.path), "health")
    assert code == 3 and out == "HOLDEMD UNKNOWN - E_INTERNAL: bug\n"


def test_ping_and_events_before_the_reply(capsys: pytest.CaptureFixture[str]) -> None:
    # An event line ahead of the reply is skipped; so is a reply with someone else's id.
    def handle(request: ControlRequest) -> list[bytes]:
        pong = {"pong": True, "pid": 4000, "version": "0.1.0"}
        stale = encode_reply(ControlReply.success("not-mine", {"pong": False}))
        running = event("state", {"run_id": "r", "state": "running", "reason": None})
        return [running, stale, ok(request, pong)]

    with fake_daemon(handle) as server:
        code, out, _ = run_main(capsys, "--socket", str(server.path), "ping")
        with ControlClient(server.path, timeout=5) as client:
            assert client.request("ping")["pong"] is True
            assert client.request("ping")["pid"] == 4000  # two requests on one connection
    assert code == 0
    assert out.startswith("pong from holdemd 0.1.0 (pid 4000) in ") and out.endswith(" ms\n")
    ids = [r.id for r in server.requests[1:]]
    assert len(set(ids)) == 2


def test_start_sends_absolute_paths_and_typed_overrides(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    started = {"changed": True, "run_id": "r1", "run_dir": "/state/runs/r1"}
    with fake_daemon(canned({"start": started})) as server:
        sock = str(server.path)
        args = ["--time-budget", "8h", "--iterations", "1000", "--num-workers", "2"]
        code, out, _ = run_main(capsys, "--socket", sock, "start", "cfg.yaml", *args)
        assert code == 0 and out == "started run r1 in /state/runs/r1\n"
        more = ["--buckets", "b.npz", "--no-tensorboard", "--seed", "7"]
        code, _, _ = run_main(capsys, "--socket", sock, "start", "--resume", "runs/a", *more)
        assert code == 0
        code, _, _ = run_main(capsys, "--socket", sock, "start", "--resume", "--buckets", "mid")
        assert code == 0
    first, second, third = (r.args for r in server.requests)
    assert first == {
        "config": str(tmp_path / "cfg.yaml"),
        "overrides": {"time_budget": "8h", "iterations": 1000, "num_workers": 2},
    }
    assert second == {
        "resume": str(tmp_path / "runs" / "a"),
        "overrides": {"buckets": str(tmp_path / "b.npz"), "tensorboard": False, "seed": 7},
    }
    assert third == {"resume": True, "overrides": {"buckets": "mid"}}


def test_stop_and_snapshot_send_their_wait_flags(capsys: pytest.CaptureFixture[str]) -> None:
    results = {
        "stop": lambda r: [ok(r, {"changed": True, "state": "finished", "snapshot": "/s/1"})],
        "snapshot": lambda r: [ok(r, {"path": None, "iteration": 5, "pending": True})],
    }
    with fake_daemon(canned(results)) as server:
        sock = str(server.path)
        assert run_main(capsys, "--socket", sock, "stop", "--wait")[0] == 0
        assert run_main(capsys, "--socket", sock, "stop")[0] == 0
        assert run_main(capsys, "--socket", sock, "snapshot")[0] == 0
        code, out, _ = run_main(capsys, "--socket", sock, "snapshot", "--no-wait")
    assert code == 0 and "being written" in out
    assert [r.args for r in server.requests] == [
        {"wait": True},
        {"wait": False},
        {"wait": True},
        {"wait": False},
    ]


def test_stop_wait_of_a_run_that_failed_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """It printed "run failed" with exit 0: a script checking $? took it for a clean stop."""
    results = {"stop": lambda r: [ok(r, {"changed": True, "state": "failed", "snapshot": None})]}
    with fake_daemon(canned(results)) as server:
        code, out, _ = run_main(capsys, "--socket", str(server.path), "stop", "--wait")
    assert (code, out.strip()) == (1, "run failed")


LOOKUP = {
    "game": "holdem",
    "snapshot": None,
    "iteration": 1_234_567,
    "blueprint": None,
    "description": "holdem, live tables of run 1764000000-42 (1,234,567 iterations)",
    "history": "r2.5 c /",
    "tree_history": "r250c/",
    "notes": [],
    "translations": [],
    "street": "flop",
    "seat": "BB",
    "player": 1,
    "unit": "bb",
    "pot": 5.0,
    "to_call": 0.0,
    "hand": "AsKs",
    "board": "AhKd7c",
    "bucket": 17,
    "bucket_label": "17",
    "detail": "flop bucket 17 of 50",
    "trained": True,
    "actions": [
        {
            "token": "k",
            "label": "check",
            "kind": "call",
            "amount_bb": 2.5,
            "pot_fraction": None,
            "probability": 0.25,
        },
        {
            "token": "b5",
            "label": "bet 2.5 bb",
            "kind": "raise",
            "amount_bb": 2.5,
            "pot_fraction": 0.5,
            "probability": 0.75,
        },
    ],
}


def test_strategy_show_sends_the_decision_and_prints_strategy_shows_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    ranges = {
        **{k: LOOKUP[k] for k in ("description", "history", "notes", "street", "seat")},
        **{k: LOOKUP[k] for k in ("unit", "pot", "to_call", "board")},
        "ranges": [
            {"seat": "BTN", "player": 0, "combos": 1000.5, "range": "AA,AKs:0.5"},
            {"seat": "BB", "player": 1, "combos": 0.0, "range": ""},
        ],
    }
    with fake_daemon(canned({"strategy": LOOKUP, "range": ranges})) as server:
        sock = str(server.path)
        decision = ["--hand", "AsKs", "--board", "AhKd7c", "--history", "r2.5 c"]
        code, out, _ = run_main(capsys, "--socket", sock, "strategy", "show", *decision)
        assert code == 0
        assert out.splitlines() == [
            "holdem, live tables of run 1764000000-42 (1,234,567 iterations)",
            "BB to act on the flop after 'r2.5 c /': pot 5 bb, nothing to call",
            "hand AsKs, board AhKd7c: flop bucket 17 of 50",
            "  k   check                    25.0%  #####",
            "  b5  bet 2.5 bb   0.50x pot   75.0%  ###############",
        ]
        code, out, _ = run_main(capsys, "--socket", sock, "strategy", "show", "--json", *decision)
        assert code == 0 and json.loads(out) == LOOKUP
        snapshot = ["--snapshot", "latest", "--run", "runs/a", "--seat", "BB"]
        assert (
            run_main(capsys, "--socket", sock, "strategy", "show", "--hand", "K", *snapshot)[0] == 0
        )
        code, out, _ = run_main(capsys, "--socket", sock, "strategy", "range", "--run", "a-1")
        assert code == 0
        assert out.splitlines()[2:] == ["BTN (1,000.5 combos): AA,AKs:0.5", "BB (0.0 combos): -"]
    assert [(r.cmd, r.args) for r in server.requests] == [
        ("strategy", {"hand": "AsKs", "board": "AhKd7c", "history": "r2.5 c"}),
        ("strategy", {"hand": "AsKs", "board": "AhKd7c", "history": "r2.5 c"}),
        (
            "strategy",
            {"hand": "K", "seat": "BB", "snapshot": "latest", "run": str(tmp_path / "runs/a")},
        ),
        ("range", {"run": "a-1"}),
    ]


def test_strategy_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def handle(request: ControlRequest) -> list[bytes]:
        return [failed(request, "E_BAD_REQUEST", "--hand AsXs: bad card 'Xs'")]

    with fake_daemon(handle) as server:
        code, out, err = run_main(
            capsys, "--socket", str(server.path), "strategy", "show", "--hand", "AsXs"
        )
    assert (code, out, err) == (1, "", "holdemctl: E_BAD_REQUEST: --hand AsXs: bad card 'Xs'\n")
    assert ctl("strategy", "show").returncode == 2  # --hand is required


def test_an_unexpected_reply_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with fake_daemon(canned({"status": {"schema": 99}})) as server:
        code, _, err = run_main(capsys, "--socket", str(server.path), "status")
    assert code == 1 and err.startswith("holdemctl: unexpected reply to status")


def test_watch_prints_events_then_exits_3_when_the_daemon_closes() -> None:
    stats = {
        "iterations": 10,
        "iterations_per_s": 5.0,
        "elapsed_s": 2.0,
        "workers_alive": 2,
        "state": "running",
    }

    def handle(request: ControlRequest) -> list[bytes]:
        assert request.cmd == "subscribe" and request.args == {"interval": 0.5}
        return [
            ok(request, {"subscribed": True}),
            event("stats", stats),
            event("worker", {"slot": 1, "pid": 7, "what": "exited", "reason": "SIGKILL"}),
            CLOSE,
        ]

    with fake_daemon(handle) as server:
        raw = ctl("--socket", str(server.path), "watch", "--json", "--interval", "0.5")
        human = ctl("--socket", str(server.path), "watch", "--interval", "0.5")
    assert raw.returncode == 3 and "closed the connection" in raw.stderr
    *events, last = [json.loads(line) for line in raw.stdout.splitlines()]
    assert [(e["event"], e["data"]) for e in events] == [
        ("stats", stats),
        ("worker", {"slot": 1, "pid": 7, "what": "exited", "reason": "SIGKILL"}),
    ]
    assert last["ok"] is False and last["error"]["code"] == "E_NO_DAEMON"  # why it ended
    assert human.returncode == 3 and "Traceback" not in human.stderr
    first, second = human.stdout.splitlines()
    assert "stats" in first and "10 iterations" in first and "2 workers up" in first
    assert "worker 1 (pid 7) exited: SIGKILL" in second


def test_watch_ends_quietly_on_ctrl_c() -> None:
    def handle(request: ControlRequest) -> list[bytes]:
        return [ok(request, {"subscribed": True}), event("snapshot", _SNAP), HANG]

    with fake_daemon(handle) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "holdemctl", "--socket", str(server.path), "watch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            # A terminal's Ctrl-C: SIGINT at its default, even when this test runs in a
            # background job (whose children inherit it ignored: no KeyboardInterrupt then).
            preexec_fn=_default_sigint,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # the event arrived: the watch is waiting
            proc.send_signal(signal.SIGINT)
            # Generous: under a loaded xdist run the interpreter can take seconds to react.
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()  # reaps it and closes its pipes (no ResourceWarning later)
    assert "snapshot" in line and "iteration 300" in line
    assert proc.returncode == 0 and err == "" and out == ""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


_SNAP = {"path": "/s/snapshot-300", "iteration": 300, "bytes": 2048, "seconds": 0.25}


def test_connect_raises_typed_errors() -> None:
    where = Path(tempfile.mkdtemp(prefix="hc", dir="/tmp"))
    try:
        with pytest.raises(NotRunning) as missing:
            connect(str(where / "nothing.sock"), timeout=1)
        assert missing.value.exit_code == 3
    finally:
        shutil.rmtree(where)
    with fake_daemon(lambda r: [failed(r, "E_BUSY", "a snapshot is being written")]) as server:
        with connect(str(server.path), timeout=1) as client, pytest.raises(DaemonError) as busy:
            client.request("snapshot")
        assert (busy.value.code, busy.value.exit_code) == ("E_BUSY", 1)
    with (
        fake_daemon(lambda r: [HANG]) as server,
        ControlClient(server.path, timeout=5) as client,
        pytest.raises(Timeout),
    ):
        client.request("status", timeout=0.2)  # a per-request timeout


def test_start_waits_for_the_game_to_load(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first start of a Hold'em config builds bucket tables and compiles kernels before the
    daemon answers: start must outwait the default timeout that suits other commands."""
    import holdemctl.cli

    monkeypatch.setattr(holdemctl.cli, "DEFAULT_TIMEOUT", 0.3)
    started = {"changed": True, "run_id": "r1", "run_dir": "/state/runs/r1"}

    def slow(request: ControlRequest) -> list[bytes]:
        time.sleep(1.0)  # "loading the game": longer than the (patched) default timeout
        return [ok(request, started)]

    with fake_daemon(canned({"start": slow, "status": slow})) as server:
        code, out, err = run_main(capsys, "--socket", str(server.path), "start", "/c.yaml")
        assert (code, out) == (0, "started run r1 in /state/runs/r1\n"), err
        assert run_main(capsys, "--socket", str(server.path), "status")[0] == 4  # the default

    with fake_daemon(lambda request: [HANG]) as server:
        code, _, err = run_main(capsys, "--socket", str(server.path), "--timeout", "0.2", "start")
    assert code == 4 and err.count("\n") == 1
    assert "may still be starting the run" in err and "holdemctl status" in err


# --------------------------------------------------------------------------------------------
# Whom the client trusts (protocol.paths.socket_problem), and a directory it may not enter

NOBODY = 65534
PONG = {"ping": {"pong": True, "pid": 4000, "version": "0.1.0"}}
needs_root = pytest.mark.skipif(os.getuid() != 0, reason="needs root to chown to nobody")


def test_a_socket_in_a_directory_others_may_write_is_refused() -> None:
    with fake_daemon(canned(PONG)) as server:
        assert ctl("--socket", str(server.path), "ping").returncode == 0
        server.dir.chmod(0o777)  # anyone could have swapped the socket
        done = ctl("--socket", str(server.path), "ping")
        server.dir.chmod(0o700)
    assert done.returncode == 5, done.stdout
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{server.dir} is writable by its group and others (mode 0777)" in done.stderr
    assert f"chmod go-w {server.dir}" in done.stderr
    assert len(server.requests) == 1  # the refused ping was never sent


@needs_root
def test_a_squatted_per_user_runtime_dir_is_refused() -> None:
    """Another user created $XDG_RUNTIME_DIR/holdemd (or /tmp/holdemd-UID) first and serves
    their own socket in it: the client must not take its answer for the daemon's."""
    xdg = Path(tempfile.mkdtemp(prefix="hcx", dir="/tmp"))
    squatted = xdg / "holdemd"
    squatted.mkdir()
    try:
        with fake_daemon(canned(PONG), squatted) as server:
            os.chown(server.path, NOBODY, -1)
            os.chown(squatted, NOBODY, -1)
            squatted.chmod(0o755)  # not writable by others: only its owner is wrong
            env = {"XDG_RUNTIME_DIR": str(xdg), "HOLDEMD_SOCKET": "", "RUNTIME_DIRECTORY": ""}
            done = ctl("ping", env=env)
            assert server.requests == []
    finally:
        shutil.rmtree(xdg, ignore_errors=True)
    assert done.returncode == 5, done.stdout
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{squatted} is owned by uid {NOBODY}, not you (uid 0); remove it" in done.stderr


@needs_root
def test_a_squatters_symlink_at_the_per_user_runtime_dir_is_refused() -> None:
    """The squatter's link points at a directory of ours, to re-point it after the check."""
    xdg = Path(tempfile.mkdtemp(prefix="hcx", dir="/tmp"))
    link = xdg / "holdemd"
    try:
        with fake_daemon(canned(PONG)) as server:
            link.symlink_to(server.dir)
            os.lchown(link, NOBODY, -1)
            env = {"XDG_RUNTIME_DIR": str(xdg), "HOLDEMD_SOCKET": "", "RUNTIME_DIRECTORY": ""}
            done = ctl("ping", env=env)
            assert server.requests == []
    finally:
        shutil.rmtree(xdg, ignore_errors=True)
    assert done.returncode == 5, done.stdout
    assert f"{link} is a symbolic link owned by uid {NOBODY}, not you (uid 0)" in done.stderr


@needs_root
def test_another_users_daemon_in_their_own_directory_is_trusted() -> None:
    """--socket-group: alice's daemon, alice's directory (0710), alice's socket; a group member
    (here root, who may traverse anything) may use it."""
    with fake_daemon(canned(PONG)) as server:
        os.chown(server.path, NOBODY, -1)
        os.chown(server.dir, NOBODY, -1)
        server.dir.chmod(0o710)
        assert ctl("--socket", str(server.path), "ping").returncode == 0
        # ... but not when the directory is someone else's than the socket's owner.
        os.chown(server.path, 0, -1)
        done = ctl("--socket", str(server.path), "ping")
    assert done.returncode == 5
    assert f"{server.dir} is owned by uid {NOBODY}, not root; remove it" in done.stderr


def _as_nobody(argv: list[str]) -> tuple[int, str]:
    """holdemctl's main(argv) in a forked child running as uid/gid nobody: (exit code, stderr).
    A child process, not the holdemctl command: nobody may not execute this checkout's
    interpreter (it lives under /root)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 99
        try:
            os.close(read_end)
            os.dup2(write_end, 2)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - the child's own stderr
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = main(argv)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        err = f.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


@needs_root
def test_a_directory_the_user_may_not_enter_is_permission_denied() -> None:
    where = Path(tempfile.mkdtemp(prefix="hc", dir="/tmp"))  # root's, mode 0700
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(where / SOCKET_NAME))
            sock.listen(1)
            for target in (where, where / SOCKET_NAME):
                code, err = _as_nobody(["--socket", str(target), "ping"])
                assert code == 5, err
                assert err.count("\n") == 1 and "Traceback" not in err, err
                assert err.startswith(f"holdemctl: {where / SOCKET_NAME}: permission denied; ")
    finally:
        shutil.rmtree(where)


def test_a_refused_connection_reports_the_daemons_reason() -> None:
    """A daemon over its connection limit answers with E_BUSY and closes at once, before the
    client has sent its request: the client reports the reason, not "the daemon went away"."""
    where = Path(tempfile.mkdtemp(prefix="hc", dir="/tmp"))
    refused = threading.Event()
    refusal = encode_reply(ControlReply.failure(None, "E_BUSY", "too many control connections"))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(where / SOCKET_NAME))
            listener.listen(1)

            def turn_away() -> None:
                conn, _ = listener.accept()
                conn.sendall(refusal)
                conn.close()
                refused.set()

            thread = threading.Thread(target=turn_away, daemon=True)
            thread.start()
            with ControlClient(where / SOCKET_NAME, timeout=5) as client:
                assert refused.wait(10)
                with pytest.raises(DaemonError) as busy:
                    client.request("ping")
            thread.join(timeout=5)
    finally:
        shutil.rmtree(where)
    assert busy.value.code == "E_BUSY" and "too many control connections" in busy.value.message


HOST = {
    "name": "n1",
    "address": "10.0.0.2",
    "state": "running",
    "reason": None,
    "workers": 2,
    "num_workers": 2,
    "iterations_per_s": 31000.4,
    "iterations": 5_000_000,
    "last_contact_s": 0.4,
    "bytes_in": 12 * 2**20,
    "bytes_out": 5 * 2**20,
    "sessions": 1,
}


def test_status_shows_every_host_of_a_multi_host_run() -> None:
    result = status_result()
    lost = {**HOST, "name": "n2", "state": "lost", "reason": "no message for 6.1 s"}
    result["run"] = {**result["run"], "hosts": [HOST, lost]}
    lines = [line.split(None, 2) for line in render.status(result).splitlines()]
    hosts = {line[1]: line[2] for line in lines if line[0] == "host"}
    assert hosts == {
        "n1": "running at 10.0.0.2, 2 of 2 workers, 31,000 it/s, heard 0.4 s ago, "
        "12.0 MiB in / 5.0 MiB out",
        "n2": "lost at 10.0.0.2: no message for 6.1 s",
    }
