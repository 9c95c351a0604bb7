"""End-to-end tests of ``holdemd serve`` with the real ``holdemctl`` as a subprocess.

Each test starts a real daemon process (which spawns real worker processes), drives it over its
control socket, and leaves nothing behind: the autouse ``reaper`` kills leftovers and fails the
test if there were any. Sockets live under /tmp (AF_UNIX paths are limited to 108 bytes) and
only on the loopback of the filesystem: nothing here opens a network port.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from holdemd.rundir.snapshot_read import read_manifest
from tests.daemon.processes import Reaper, proc_stat, wait_for

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(180),
]

ROOT = Path(__file__).resolve().parents[2]
LEDUC_CONFIG = """\
game: {name: leduc}
solver: {seed: 3}
training:
  iterations: 0
  time_budget: 1h
  snapshot_interval: 1h
  eval_interval: 0
  num_workers: 2
  batch_size: 2000
  tensorboard: false
"""


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    socket: Path
    state_dir: Path
    runtime_dir: Path
    config: Path

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real holdemctl against this daemon."""
        return subprocess.run(
            [sys.executable, "-m", "holdemctl", "--socket", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    def ctl_json(self, *args: str) -> Any:
        done = self.ctl("--json", *args)
        assert done.returncode == 0, f"holdemctl {' '.join(args)}: {done.stderr}{done.stdout}"
        return json.loads(done.stdout)

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        """One raw request line, one reply line."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(30)
            conn.connect(str(self.socket))
            line = json.dumps({"v": 1, "id": 1, "cmd": cmd, "args": args}) + "\n"
            conn.sendall(line.encode())
            return json.loads(_read_line(conn))

    def status(self) -> dict[str, Any]:
        reply = self.request("status")
        assert reply["ok"], reply
        return reply["result"]


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    runtime = Path(tempfile.mkdtemp(prefix="hds", dir="/tmp"))
    config = tmp_path / "leduc.yaml"
    config.write_text(LEDUC_CONFIG)
    try:
        yield tmp_path / "state", runtime, config
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _start_daemon(
    reaper: Reaper,
    dirs: tuple[Path, Path, Path],
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
    preexec_fn: Callable[[], None] | None = None,
    real_workers: bool = False,
) -> Daemon:
    """A daemon on ``dirs``; its runs use fake workers (tests/fakes) unless ``real_workers``:
    what these tests check is the service, and a real worker costs seconds to start."""
    state, runtime, config = dirs
    holdemd = (
        [sys.executable, "-m", "holdemd.cli"]
        if real_workers
        else [sys.executable, str(ROOT / "tests" / "fakes" / "cli.py"), "--"]
    )
    with open(runtime / "stderr.log", "ab") as stderr:  # the child keeps its own copy
        process = subprocess.Popen(
            [
                *holdemd,
                "serve",
                "--state-dir",
                str(state),
                "--runtime-dir",
                str(runtime),
                "--config",
                str(config),
                *extra,
            ],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=preexec_fn,
        )
    reaper.add_supervisor(process.pid)
    daemon = Daemon(process, runtime / "control.sock", state, runtime, config)
    ok = wait_for(lambda: _answers(daemon) or process.poll() is not None, 60, interval=0.1)
    assert ok and process.poll() is None, _stderr(process, runtime)
    return daemon


def _answers(daemon: Daemon) -> bool:
    """It answers a ping (a killed daemon's socket file may still be there, refusing)."""
    try:
        return bool(daemon.request("ping")["ok"])
    except OSError:
        return False


def _stderr(process: subprocess.Popen[bytes], runtime: Path) -> str:
    log = runtime / "stderr.log"
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no output)"


def _shutdown(daemon: Daemon) -> int:
    daemon.ctl("shutdown")
    try:
        return daemon.process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        daemon.process.kill()
        daemon.process.wait()
        raise


def _iterations(daemon: Daemon) -> int:
    run = daemon.status()["run"]
    return run["iterations"] if run else 0


def _until(predicate: Any, what: str, timeout: float = 90) -> None:
    assert wait_for(predicate, timeout, interval=0.1), f"timed out waiting for {what}"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------


def test_start_status_pause_resume_snapshot_stop(reaper: Reaper, dirs: Any) -> None:
    daemon = _start_daemon(reaper, dirs, real_workers=True)
    idle = daemon.ctl_json("status")
    assert idle["run"] is None and idle["health"]["status"] == "ok"
    assert daemon.ctl("pause").returncode == 1  # no run: the daemon says E_NOT_RUNNING

    started = daemon.ctl_json("start", str(daemon.config))
    assert started["changed"] is True and Path(started["run_dir"]).is_dir()
    busy = daemon.ctl("start", str(daemon.config))
    assert busy.returncode == 1 and "E_BUSY" in busy.stderr
    _until(lambda: _iterations(daemon) > 100_000, "training to run")
    reaper.watch()

    status = daemon.ctl_json("status")
    assert status["schema"] == 1
    assert set(status) >= {"daemon", "run", "resumed_from", "health", "past_runs"}
    assert status["daemon"]["pid"] == daemon.process.pid
    run = status["run"]
    assert run["state"] == "running" and run["game"] == "leduc"
    assert run["run_dir"] == started["run_dir"] and len(run["workers"]) == 2
    for worker in run["workers"]:
        assert set(worker) >= {"slot", "pid", "state", "iterations", "iterations_per_s", "restarts"}
    assert daemon.ctl_json("workers")["workers"][0]["slot"] == 0

    # Pause: iterations stop, the workers idle (they stay alive and heartbeat).
    assert daemon.ctl_json("pause") == {"changed": True, "state": "paused"}
    assert daemon.ctl_json("pause") == {"changed": False, "state": "paused"}
    _until(
        lambda: all(w["state"] == "paused" for w in daemon.status()["run"]["workers"]),
        "workers to pause",
    )
    pids = [w["pid"] for w in daemon.status()["run"]["workers"]]
    paused_at = _iterations(daemon)
    cpu_before = [_cpu_seconds(pid) for pid in pids]
    elapsed_before = daemon.status()["run"]["elapsed_s"]
    time.sleep(2.0)
    assert _iterations(daemon) == paused_at
    cpu_used = [_cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    assert max(cpu_used) < 0.2, f"paused workers used {cpu_used} s of CPU in 2 s"
    assert daemon.status()["run"]["elapsed_s"] - elapsed_before < 0.5  # the budget clock stops
    assert daemon.status()["run"]["state"] == "paused"

    assert daemon.ctl_json("resume") == {"changed": True, "state": "running"}
    _until(lambda: _iterations(daemon) > paused_at + 50_000, "training to resume")

    # Snapshot on demand: the file exists and its manifest checks out.
    snap = daemon.ctl_json("snapshot")
    assert snap["pending"] is False and snap["iteration"] >= paused_at
    manifest = read_manifest(Path(snap["path"]))
    assert manifest["iteration"] == snap["iteration"]

    stopped = daemon.ctl_json("stop", "--wait")
    assert stopped["changed"] is True and stopped["state"] == "finished"
    assert Path(stopped["snapshot"]).is_dir()
    assert daemon.ctl_json("stop")["changed"] is False
    final = daemon.ctl_json("status")
    assert final["run"] is None and final["past_runs"][0]["state"] == "finished"
    assert not (daemon.state_dir / "active-run.json").exists()
    assert _shutdown(daemon) == 0


def test_a_second_daemon_on_the_same_state_dir_exits_with_the_reason(
    reaper: Reaper, dirs: Any
) -> None:
    daemon = _start_daemon(reaper, dirs)
    state = dirs[0]
    second = subprocess.run(
        [sys.executable, "-m", "holdemd.cli", "serve", "--state-dir", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "holdemd.lock" in second.stderr and str(daemon.process.pid) in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert daemon.request("ping")["ok"]  # the first one is untouched
    assert _shutdown(daemon) == 0


def test_a_killed_daemon_resumes_its_run_from_the_last_snapshot(reaper: Reaper, dirs: Any) -> None:
    daemon = _start_daemon(reaper, dirs)
    daemon.ctl_json("start", str(daemon.config), "--snapshot-interval", "1")
    _until(lambda: (daemon.status()["run"] or {}).get("last_snapshot"), "a snapshot")
    reaper.watch()
    os.kill(daemon.process.pid, signal.SIGKILL)
    daemon.process.wait()
    last = max(
        (read_manifest(p)["iteration"] for p in daemon.state_dir.glob("runs/*/snapshots/*")),
        default=0,
    )
    assert last > 0

    again = _start_daemon(reaper, dirs)
    _until(lambda: again.status()["run"] is not None, "the run to be resumed")
    status = again.status()
    assert status["resumed_from"] is not None and "snapshots" in status["resumed_from"]
    assert status["run"]["iterations"] >= last
    _until(lambda: _iterations(again) > last, "the resumed run to train")
    assert _shutdown(again) == 0
    # A daemon shutdown is not the end of the run: it stays recorded, to resume next time.
    assert (again.state_dir / "active-run.json").exists()


def test_notify_protocol_ready_status_watchdog_stopping(reaper: Reaper, dirs: Any) -> None:
    notify_dir = Path(tempfile.mkdtemp(prefix="hdn", dir="/tmp"))
    path = notify_dir / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        listener.bind(str(path))
        listener.settimeout(30)
        daemon = _start_daemon(
            reaper, dirs, env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"}
        )
        seen: list[str] = []

        def receive_until(word: str) -> None:
            deadline = time.monotonic() + 30
            while not any(word in m for m in seen) and time.monotonic() < deadline:
                seen.append(listener.recv(4096).decode())

        receive_until("READY=1")
        receive_until("WATCHDOG=1")
        receive_until("STATUS=")
        assert any("READY=1" in m for m in seen) and any("WATCHDOG=1" in m for m in seen)
        daemon.process.send_signal(signal.SIGHUP)  # reload: reopen logs, re-check the config
        receive_until("RELOADING=1")
        assert any("RELOADING=1" in m for m in seen), seen
        assert daemon.request("ping")["ok"]
        daemon.process.send_signal(signal.SIGTERM)
        receive_until("STOPPING=1")
        assert any("STOPPING=1" in m for m in seen), seen
        assert daemon.process.wait(timeout=60) == 0
    finally:
        listener.close()
        shutil.rmtree(notify_dir, ignore_errors=True)


def test_malformed_control_lines_get_errors_and_do_not_disturb_training(
    reaper: Reaper, dirs: Any
) -> None:
    daemon = _start_daemon(reaper, dirs)
    daemon.ctl_json("start", str(daemon.config))
    _until(lambda: _iterations(daemon) > 50_000, "training to run")
    reaper.watch()
    rng = random.Random(7)
    valid = json.dumps({"v": 1, "id": 1, "cmd": "status"})
    lines: list[bytes] = [
        b"{",
        b"[]",
        b"null",
        b'{"v":1}',
        b'{"v":2,"id":1,"cmd":"ping"}',
        b'{"v":1,"id":1,"cmd":"nope"}',
        b'{"v":1,"id":1,"cmd":"pause","args":{"x":1}}',
        b'{"v":1,"id":1,"cmd":"start","args":{"config":5}}',
        b'{"v":1,"id":1,"cmd":"subscribe","args":{"interval":-1}}',
        b'{"v":1,"id":true,"cmd":"ping"}',
        b"\xff\xfe\x00",
        b'{"v":1,"id":1,"cmd":"ping","cmd":"stop"}',
    ]
    for _ in range(3000):
        kind = rng.randrange(3)
        if kind == 0:
            line = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        elif kind == 1:
            cut = rng.randrange(1, len(valid))
            line = (valid[:cut] + valid[cut + 1 :]).encode()  # one character deleted
        else:
            line = rng.choice(lines)
        lines.append(line.replace(b"\n", b" "))
    answered = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(str(daemon.socket))
        reader = conn.makefile("rb")
        for line in lines:
            conn.sendall(line + b"\n")
            reply = json.loads(reader.readline())
            assert reply["ok"] is False or reply["result"] is not None, (line, reply)
            if not reply["ok"]:
                assert reply["error"]["code"].startswith("E_")
            answered += 1
    assert answered == len(lines)
    # An oversized line is answered with E_TOO_LARGE and the connection is closed.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(str(daemon.socket))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(b"x" * (200 * 1024) + b"\n")
        reply = json.loads(_read_line(conn))
        assert reply["error"]["code"] == "E_TOO_LARGE"
        assert conn.recv(10) == b""
    before = _iterations(daemon)
    _until(lambda: _iterations(daemon) > before + 50_000, "training to go on")
    status = daemon.status()
    assert status["run"]["state"] == "running"
    assert all(w["restarts"] == 0 for w in status["run"]["workers"])
    assert proc_stat(daemon.process.pid) is not None
    assert _shutdown(daemon) == 0


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run a client as another user")
def test_peer_credentials_decide_who_may_do_what(reaper: Reaper, dirs: Any) -> None:
    """uid nobody: refused outright by default (mode 0600); with --socket-group nogroup it may
    read status but not pause: the daemon checks the kernel's peer credentials."""
    import grp

    try:
        group = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        pytest.skip("no 'nogroup' group here")

    def as_nobody(daemon: Daemon, cmd: str) -> str:
        """One raw request from a forked child running as uid/gid nobody: the error code of
        the reply, "ok", or the connect error's name. (A child process, not holdemctl: nobody
        may not execute this checkout's interpreter.)"""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            outcome = "crashed"
            try:
                os.setgroups([])
                os.setgid(group)
                os.setuid(65534)
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                    conn.settimeout(10)
                    try:
                        conn.connect(str(daemon.socket))
                    except OSError as exc:
                        outcome = type(exc).__name__
                    else:
                        conn.sendall(json.dumps({"v": 1, "id": 1, "cmd": cmd}).encode() + b"\n")
                        reply = json.loads(_read_line(conn))
                        outcome = "ok" if reply["ok"] else reply["error"]["code"]
            finally:
                os.write(write_end, outcome.encode())
                os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as f:
            return f.read().decode()

    daemon = _start_daemon(reaper, dirs)
    assert as_nobody(daemon, "status") == "PermissionError"
    assert _shutdown(daemon) == 0

    shared = _start_daemon(reaper, dirs, extra=("--socket-group", "nogroup"))
    assert oct(shared.socket.stat().st_mode & 0o777) == "0o660"
    assert as_nobody(shared, "status") == "ok"
    assert as_nobody(shared, "pause") == "E_PERMISSION"
    assert shared.ctl("--json", "status").returncode == 0  # the owner still may
    assert _shutdown(shared) == 0


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand a directory to nobody")
@pytest.mark.parametrize("which", ["runtime", "state"])
def test_a_directory_another_user_controls_is_refused(
    reaper: Reaper, dirs: Any, which: str
) -> None:
    """Another user created the directory first (/tmp/holdemd-UID is anyone's to create) and
    left it open: serving there would let them swap the socket and answer in the daemon's
    name, or plant runs. The daemon refuses with one line and writes nothing into it."""
    state, runtime, config = dirs
    squatted = runtime if which == "runtime" else state
    squatted.mkdir(exist_ok=True)
    os.chown(squatted, 65534, 65534)
    squatted.chmod(0o777)
    command = [sys.executable, "-m", "holdemd.cli", "serve"]
    command += ["--state-dir", str(state), "--runtime-dir", str(runtime)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    reaper.add_supervisor(process.pid)
    daemon = Daemon(process, runtime / "control.sock", state, runtime, config)
    # Today's daemon would serve: fail as soon as it answers instead of waiting it out.
    wait_for(lambda: process.poll() is not None or _answers(daemon), 60, interval=0.1)
    assert process.poll() is not None, "the daemon serves in a directory uid nobody controls"
    err = process.communicate()[1].decode()
    assert process.returncode == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    what, option = ("runtime", "--runtime-dir") if which == "runtime" else ("state", "--state-dir")
    assert err.startswith(
        f"holdemd: {what} directory {squatted} is owned by uid 65534, not you (uid 0); "
        f"remove it, or choose another with {option}"
    )
    assert os.listdir(squatted) == []


def _ping_pid(daemon: Daemon) -> int | None:
    """The pid of whichever daemon answers on the socket now, if one does."""
    try:
        return int(daemon.request("ping")["result"]["pid"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def test_a_second_daemon_on_the_same_runtime_dir_exits_naming_the_first(
    reaper: Reaper, dirs: Any, tmp_path: Path
) -> None:
    """Another state directory, so the state lock does not stop it: the socket's lock must."""
    daemon = _start_daemon(reaper, dirs)
    command = [sys.executable, "-m", "holdemd.cli", "serve", "--state-dir"]
    command += [str(tmp_path / "other-state"), "--runtime-dir", str(daemon.runtime_dir)]
    second = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    reaper.add_supervisor(second.pid)
    # Today's second daemon takes the socket over: stop waiting as soon as it answers on it.
    wait_for(lambda: second.poll() is not None or _ping_pid(daemon) == second.pid, 60, 0.1)
    assert second.poll() is not None, "the second daemon took the socket over"
    err = second.communicate()[1].decode()
    assert second.returncode == 1
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"another holdemd serve (pid {daemon.process.pid}) serves {daemon.socket}" in err
    assert _ping_pid(daemon) == daemon.process.pid  # the first one still answers there
    assert _shutdown(daemon) == 0


def test_a_burst_of_simultaneous_clients_is_all_answered(reaper: Reaper, dirs: Any) -> None:
    """More clients at once than asyncio's default backlog (100): with the daemon stopped, all
    of them must fit in the listen queue, then all are answered."""
    daemon = _start_daemon(reaper, dirs)
    clients: list[socket.socket] = []
    refused = 0
    os.kill(daemon.process.pid, signal.SIGSTOP)  # accepts nothing: every client queues
    try:
        for _ in range(250):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.setblocking(False)
            try:
                client.connect(str(daemon.socket))  # EAGAIN once the queue is full
                client.sendall(json.dumps({"v": 1, "id": 1, "cmd": "ping"}).encode() + b"\n")
            except BlockingIOError:
                refused += 1
                client.close()
                continue
            clients.append(client)
    finally:
        os.kill(daemon.process.pid, signal.SIGCONT)
    try:
        assert refused == 0, f"{refused} of 250 clients found the listen queue full"
        for client in clients:
            client.settimeout(30)
            assert json.loads(_read_line(client))["result"]["pong"] is True
    finally:
        for client in clients:
            client.close()
    assert _shutdown(daemon) == 0


class _Flood:
    """A forked child running as uid nobody (group nogroup) that opens up to ``count``
    connections to the daemon and holds them until :meth:`release`. It reports how many it
    opened and what the daemon answered one more (its refusal, or "ok"). A child process, not
    a thread: the daemon must see another uid."""

    def __init__(self, path: Path, count: int, gid: int) -> None:
        self._results_r, results_w = os.pipe()
        release_r, self._release_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never return into pytest
            try:
                os.close(self._results_r)
                os.close(self._release_w)
                self._hold(path, count, gid, results_w, release_r)
            finally:
                os._exit(0)
        os.close(results_w)
        os.close(release_r)

    @staticmethod
    def _hold(path: Path, count: int, gid: int, results_w: int, release_r: int) -> None:
        import resource

        outcome = "crashed"
        held: list[socket.socket] = []
        try:
            # The fork inherited the pytest worker's descriptors (memory-mapped games and
            # snapshots of earlier tests hold some): close them, or they eat the headroom
            # below and the flood fails on its own EMFILE.
            for fd in (int(name) for name in os.listdir("/proc/self/fd")):
                if fd > 2 and fd not in (results_w, release_r):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            resource.setrlimit(resource.RLIMIT_NOFILE, (count + 64, count + 64))
            os.setgroups([])
            os.setgid(gid)
            os.setuid(65534)
            for _ in range(count):
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.settimeout(2)
                try:
                    conn.connect(str(path))
                except OSError:
                    conn.close()
                    break
                held.append(conn)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as one_more:
                one_more.settimeout(30)
                one_more.connect(str(path))
                one_more.sendall(json.dumps({"v": 1, "id": 1, "cmd": "status"}).encode() + b"\n")
                reply = json.loads(_read_line(one_more))
                outcome = "ok" if reply["ok"] else reply["error"]["code"]
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(results_w, f"{len(held)} {outcome}\n".encode())
            os.close(results_w)
            os.read(release_r, 1)  # until the test is done with the flood
            for conn in held:
                conn.close()

    def opened(self) -> tuple[int, str]:
        with os.fdopen(self._results_r, "rb") as f:
            count, outcome = f.readline().decode().strip().split(" ", 1)
        return int(count), outcome

    def release(self) -> None:
        os.close(self._release_w)
        os.waitpid(self.pid, 0)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run a client as another user")
def test_a_connection_flood_from_another_user_locks_out_neither_the_owner_nor_the_run(
    reaper: Reaper, dirs: Any
) -> None:
    """A read-only --socket-group member opens many more connections than the daemon has
    descriptors (256 here): the owner still gets in, training goes on, snapshots are written,
    and the log does not explode."""
    import grp
    import resource

    try:
        group = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        pytest.skip("no 'nogroup' group here")

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    daemon = _start_daemon(
        reaper, dirs, extra=("--socket-group", "nogroup"), preexec_fn=few_descriptors
    )
    daemon.ctl_json("start", str(daemon.config))
    _until(lambda: _iterations(daemon) > 50_000, "training to run")
    reaper.watch()
    log = daemon.runtime_dir / "stderr.log"
    lines_before = len(log.read_text().splitlines())

    flood = _Flood(daemon.socket, 600, group)
    try:
        opened, one_more = flood.opened()
        assert opened == 600, f"the flood could open only {opened} connections"
        assert one_more == "E_BUSY"  # turned away with a reason, not left hanging
        ping = daemon.ctl("ping")  # the owner's way in
        assert ping.returncode == 0, ping.stderr
        before = _iterations(daemon)
        _until(lambda: _iterations(daemon) > before + 50_000, "training to go on")
        snapshot = daemon.ctl_json("snapshot")  # files need descriptors too
        assert Path(snapshot["path"]).is_dir()
    finally:
        flood.release()

    status = daemon.status()
    assert status["run"]["state"] == "running"
    assert all(w["restarts"] == 0 for w in status["run"]["workers"])
    new_lines = log.read_text().splitlines()[lines_before:]
    assert sum("refused a control connection" in line for line in new_lines) <= 5
    assert len(new_lines) <= 30, "\n".join(new_lines[:40])
    assert _shutdown(daemon) == 0
