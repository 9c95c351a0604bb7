"""The systemd notify protocol, with the test playing systemd on a datagram socket."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from holdemd.service.sd_notify import Notifier, sanitize_status

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs AF_UNIX")


@pytest.fixture
def systemd_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[socket.socket, Path]]:
    """A bound SOCK_DGRAM socket playing systemd's notify socket, exported as NOTIFY_SOCKET.

    Under /tmp, not pytest's tmp_path: an AF_UNIX path must fit in 108 bytes."""
    directory = Path(tempfile.mkdtemp(prefix="sdn-", dir="/tmp"))
    path = directory / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    try:
        yield server, path
    finally:
        server.close()
        shutil.rmtree(directory, ignore_errors=True)


def receive(server: socket.socket) -> str:
    return server.recv(65536).decode()


def nothing_pending(server: socket.socket) -> bool:
    server.setblocking(False)
    try:
        server.recv(65536)
    except BlockingIOError:
        return True
    finally:
        server.settimeout(5)
    return False


def test_ready_status_stopping_datagrams(systemd_socket: tuple[socket.socket, Path]) -> None:
    server, path = systemd_socket
    notifier = Notifier.from_env()
    assert notifier.enabled
    assert notifier.address == str(path)
    pid = os.getpid()

    assert notifier.ready()
    assert receive(server) == f"READY=1\nMAINPID={pid}"
    assert notifier.ready("idle: no active run")
    assert receive(server) == f"READY=1\nSTATUS=idle: no active run\nMAINPID={pid}"
    assert notifier.status("running 1,234 it/s")
    assert receive(server) == "STATUS=running 1,234 it/s"
    assert notifier.stopping()
    assert receive(server) == "STOPPING=1"
    assert notifier.stopping("stopping: final snapshot")
    assert receive(server) == "STOPPING=1\nSTATUS=stopping: final snapshot"
    assert nothing_pending(server)
    notifier.close()


def test_extend_timeout(systemd_socket: tuple[socket.socket, Path]) -> None:
    server, _ = systemd_socket
    notifier = Notifier.from_env()
    assert notifier.extend_timeout(120)
    assert receive(server) == "EXTEND_TIMEOUT_USEC=120000000"
    assert notifier.extend_timeout(0.25)
    assert receive(server) == "EXTEND_TIMEOUT_USEC=250000"
    for bad in (0, -1, float("nan"), float("inf")):
        assert not notifier.extend_timeout(bad)
    assert nothing_pending(server)


@pytest.mark.skipif(not hasattr(time, "CLOCK_MONOTONIC"), reason="needs CLOCK_MONOTONIC")
def test_reloading_carries_monotonic_usec(systemd_socket: tuple[socket.socket, Path]) -> None:
    server, _ = systemd_socket
    notifier = Notifier.from_env()
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    lines = receive(server).split("\n")
    assert lines[0] == "RELOADING=1"
    key, value = lines[1].split("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after
    assert len(lines) == 2
    # ... and READY=1 ends the reload.
    assert notifier.ready("reloaded")
    assert receive(server).startswith("READY=1\nSTATUS=reloaded\n")


def test_watchdog(systemd_socket: tuple[socket.socket, Path], monkeypatch) -> None:
    server, _ = systemd_socket
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    notifier = Notifier.from_env()
    assert notifier.watchdog_interval == 15.0
    assert notifier.watchdog()
    assert receive(server) == "WATCHDOG=1"

    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = Notifier.from_env()
    assert notifier.watchdog_interval == 15.0
    assert notifier.watchdog()
    assert receive(server) == "WATCHDOG=1"


def test_watchdog_meant_for_another_process(
    systemd_socket: tuple[socket.socket, Path], monkeypatch
) -> None:
    server, _ = systemd_socket
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    notifier = Notifier.from_env()
    assert notifier.watchdog_interval is None
    assert not notifier.watchdog()
    assert nothing_pending(server)
    # The rest of the protocol still works.
    assert notifier.status("x")
    assert receive(server) == "STATUS=x"


@pytest.mark.parametrize("usec", ["", "0", "-5", "soon"])
def test_watchdog_off_for_unusable_usec(
    systemd_socket: tuple[socket.socket, Path], monkeypatch, usec: str
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    notifier = Notifier.from_env()
    assert notifier.watchdog_interval is None
    assert not notifier.watchdog()


def test_no_notify_socket_is_a_no_op(monkeypatch, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")  # without a socket it means nothing
    caplog.set_level(logging.DEBUG, logger="holdemd")
    notifier = Notifier.from_env()
    assert not notifier.enabled
    assert notifier.watchdog_interval is None
    assert not notifier.ready("idle")
    assert not notifier.status("x")
    assert not notifier.watchdog()
    assert not notifier.stopping("bye")
    assert not notifier.extend_timeout(60)
    assert not notifier.reloading()
    notifier.close()
    assert caplog.records == []


def test_from_explicit_environ_mapping() -> None:
    notifier = Notifier.from_env(
        {"NOTIFY_SOCKET": "@holdemd/test", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}
    )
    assert notifier.address == "\0holdemd/test"
    assert notifier.watchdog_interval is None  # pid 1 is not us
    assert not Notifier.from_env({"NOTIFY_SOCKET": "relative/path"}).enabled
    assert not Notifier.from_env({"NOTIFY_SOCKET": "@"}).enabled
    assert not Notifier.from_env({}).enabled


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract sockets are Linux's")
def test_abstract_namespace_socket(monkeypatch) -> None:
    name = f"holdemd-test-{os.getpid()}-{time.monotonic_ns()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(5)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
        notifier = Notifier.from_env()
        assert notifier.ready("abstract")
        assert receive(server) == f"READY=1\nSTATUS=abstract\nMAINPID={os.getpid()}"
        assert "@holdemd-test" in repr(notifier)
    finally:
        server.close()


def test_socket_that_disappears_never_raises(
    systemd_socket: tuple[socket.socket, Path], caplog: pytest.LogCaptureFixture
) -> None:
    server, path = systemd_socket
    caplog.set_level(logging.DEBUG, logger="holdemd")
    notifier = Notifier.from_env()
    assert notifier.ready()
    receive(server)

    server.close()
    path.unlink()
    assert not notifier.status("systemd went away")
    assert not notifier.watchdog()  # no watchdog configured: not even attempted
    assert not notifier.stopping()
    assert not notifier.extend_timeout(10)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, "a dead socket is reported once, not on every ping"
    assert "cannot notify the service manager" in warnings[0].getMessage()

    # A socket that comes back (systemd re-executed) is used again.
    again = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    again.bind(str(path))
    again.settimeout(5)
    try:
        assert notifier.status("back")
        assert receive(again) == "STATUS=back"
    finally:
        again.close()


def test_socket_that_never_existed(monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/nonexistent/holdemd/notify")
    notifier = Notifier.from_env()
    assert notifier.enabled
    assert not notifier.ready("idle")
    assert not notifier.status("still fine")


def test_status_is_one_sanitized_line(systemd_socket: tuple[socket.socket, Path]) -> None:
    server, _ = systemd_socket
    notifier = Notifier.from_env()
    assert notifier.status("line one\nREADY=1\r\n\tline\x00two")
    message = receive(server)
    assert message == "STATUS=line one READY=1 line two"
    assert "\n" not in message

    assert notifier.status("é" * 2000)
    message = receive(server)
    assert message.startswith("STATUS=éé")
    assert len(message) <= len("STATUS=") + 512


def test_sanitize_status() -> None:
    assert sanitize_status("  a \n b  ") == "a b"
    assert sanitize_status("") == ""
    assert sanitize_status("a\udcffb") == "a b"  # a lone surrogate would not encode


def test_constructor_takes_the_environment_form() -> None:
    assert Notifier("@name").address == "\0name"
    assert Notifier("\0name").address == "\0name"
    assert Notifier("/run/x", 4_000_000).watchdog_interval == 2.0
    assert Notifier(None, 4_000_000).watchdog_interval is None
    assert Notifier("").enabled is False
