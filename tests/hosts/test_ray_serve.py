"""``holdemd serve --listen ... --keys DIR --ray ADDRESS``: every run the daemon starts places
its nodes on the Ray cluster, so a run's Ray errors reach ``holdemctl start`` as one line.

Without a Ray cluster: the address given has nothing listening, which the run finds before Ray
is asked (``ray_placement._probe``). A run that places nodes with the daemon on a real cluster:
``test_ray_e2e.py``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from holdemd.hosts.keys import init_keys
from tests.daemon.processes import Reaper, wait_for

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    pytest.mark.timeout(120),
]

ROOT = Path(__file__).resolve().parents[2]
RAY_INSTALLED = importlib.util.find_spec("ray") is not None


def _free_port() -> int:
    """A loopback port nothing listens on (bound and released: nobody else takes it here)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def runtime() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hdr", dir="/tmp"))  # AF_UNIX paths are short
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _ctl(socket_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "holdemctl", "--socket", str(socket_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def _serve(tmp_path: Path, runtime: Path, ray_address: str) -> subprocess.Popen[bytes]:
    keys = tmp_path / "keys"
    init_keys(keys, ["ray-1"])
    with open(runtime / "stderr.log", "ab") as stderr:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "holdemd.cli", "serve"),
                *("--state-dir", str(tmp_path / "state"), "--runtime-dir", str(runtime)),
                *("--config", str(ROOT / "configs" / "leduc.yaml")),
                *("--listen", f"tcp://127.0.0.1:{_free_port()}", "--keys", str(keys)),
                *("--ray", ray_address),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


@pytest.mark.skipif(RAY_INSTALLED, reason="Ray is installed here (the other test covers --ray)")
def test_serve_with_ray_but_without_ray_installed_refuses_in_one_line(
    reaper: Reaper, tmp_path: Path, runtime: Path
) -> None:
    ray_address = f"127.0.0.1:{_free_port()}"
    daemon = _serve(tmp_path, runtime, ray_address)
    reaper.add_supervisor(daemon.pid)
    try:
        assert daemon.wait(timeout=60) == 2
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    lines = (runtime / "stderr.log").read_text().strip().splitlines()
    assert lines[-1] == (
        f"holdemd: --ray {ray_address}: Ray is not installed here; pip install 'holdemd[ray]'"
    )
    assert not (runtime / "control.sock").exists()


@pytest.mark.skipif(not RAY_INSTALLED, reason="needs Ray: pip install -e '.[ray,test]'")
def test_the_daemons_runs_place_their_nodes_with_its_ray_address(
    reaper: Reaper, tmp_path: Path, runtime: Path
) -> None:
    ray_address = f"127.0.0.1:{_free_port()}"
    daemon = _serve(tmp_path, runtime, ray_address)
    reaper.add_supervisor(daemon.pid)
    control = runtime / "control.sock"
    try:
        assert wait_for(
            lambda: daemon.poll() is not None or _ctl(control, "ping").returncode == 0, 60, 0.1
        ), (runtime / "stderr.log").read_text()
        assert daemon.poll() is None, (runtime / "stderr.log").read_text()
        # Twice: the first run's head socket was released with it, so the second meets the
        # same refusal, not an address in use.
        for _ in range(2):
            done = _ctl(control, "--json", "start")
            assert done.returncode != 0
            message = json.loads(done.stdout)["error"]["message"]
            assert message == (
                f"--ray {ray_address}: nothing answers at {ray_address} (Connection refused); "
                "start a Ray head there (`ray start --head`) or give its address"
            )
        assert json.loads(_ctl(control, "--json", "status").stdout)["run"] is None
        assert _ctl(control, "shutdown").returncode == 0
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
