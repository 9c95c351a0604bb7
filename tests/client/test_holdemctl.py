"""holdemctl without a daemon, and its start-up cost; with a daemon: tests/daemon/test_service_e2e.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from holdemd.service_paths import SOCKET_NAME, default_runtime_dir, socket_candidates

ROOT = Path(__file__).resolve().parents[2]


def _ctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "holdemctl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_no_daemon_exits_3_naming_the_sockets_tried(tmp_path: Path) -> None:
    missing = tmp_path / "control.sock"
    done = _ctl("--socket", str(missing), "status")
    assert done.returncode == 3
    assert str(missing) in done.stderr and "holdemd serve" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    health = _ctl("--socket", str(missing), "health")
    assert health.returncode == 3 and health.stdout.startswith("HOLDEMD UNKNOWN - ")


def test_a_socket_nobody_listens_on_is_not_running(tmp_path: Path) -> None:
    import socket

    path = Path("/tmp") / f"hc-{os.getpid()}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))  # bound, never listening: connect is refused
        try:
            done = _ctl("--socket", str(path), "--json", "ping")
        finally:
            path.unlink()
    assert done.returncode == 3 and '"ok": false' in done.stdout


def test_usage_errors_exit_2() -> None:
    assert _ctl().returncode == 2
    assert _ctl("frobnicate").returncode == 2
    assert _ctl("start", "--iterations", "many").returncode == 2


def test_the_client_imports_neither_numpy_nor_numba() -> None:
    code = "import holdemctl.cli, sys; print(sorted({'numpy', 'numba'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr


def test_socket_search_order(monkeypatch) -> None:
    monkeypatch.delenv("HOLDEMD_SOCKET", raising=False)
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/a:/run/b")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    found = socket_candidates(None)
    assert [str(p) for p, _ in found] == [
        "/run/a/control.sock",
        "/run/user/7/holdemd/control.sock",
        "/run/holdemd/control.sock",
    ]
    assert default_runtime_dir() == Path("/run/a")
    monkeypatch.setenv("HOLDEMD_SOCKET", "/x/y.sock")
    assert socket_candidates(None) == [(Path("/x/y.sock"), "$HOLDEMD_SOCKET")]
    assert socket_candidates("/z.sock") == [(Path("/z.sock"), "--socket")]
    monkeypatch.delenv("RUNTIME_DIRECTORY")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert default_runtime_dir() == Path(f"/tmp/holdemd-{os.getuid()}")
    assert SOCKET_NAME == "control.sock"
