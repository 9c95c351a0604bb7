"""The daemon keeps its run through faults that used to drop it (issue 11, defects 1 and 3):
a full disk under ``holdemd serve``, and a corrupt newest snapshot when it resumes after a kill.

Real daemons, real workers, the real holdemctl; the helpers are test_service_e2e's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holdemd.rundir.store import list_snapshots
from tests.daemon.processes import Reaper
from tests.daemon.test_disk_full import fill
from tests.daemon.test_service_e2e import (
    _iterations,
    _shutdown,
    _start_daemon,
    _until,
    dirs,  # noqa: F401 - a fixture
)

pytestmark = [
    pytest.mark.usefixtures("reaper"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(240),
]

KEEP_EVERY_SNAPSHOT = """\
game: {name: leduc}
solver: {seed: 3}
training:
  iterations: 0
  time_budget: 1h
  snapshot_interval: 1
  keep_every: 1
  eval_interval: 0
  num_workers: 1
  batch_size: 2000
  tensorboard: false
"""


@pytest.fixture
def disk_state_dirs(tmp_path: Path, dirs: Any) -> Iterator[tuple[Path, Path, Path]]:  # noqa: F811
    """The daemon's state directory (runs, logs, the active-run record) on a 4 MiB tmpfs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    state = tmp_path / "state-disk"
    state.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(state)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    _, runtime, config = dirs
    config.write_text(KEEP_EVERY_SNAPSHOT)
    try:
        yield state, runtime, config
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


def test_a_full_disk_under_the_daemon_degrades_the_run_which_recovers_with_space(
    reaper: Reaper,
    disk_state_dirs: tuple[Path, Path, Path],
) -> None:
    daemon = _start_daemon(reaper, disk_state_dirs)
    daemon.ctl_json("start", str(daemon.config))
    run_dir = Path(daemon.status()["run"]["run_dir"])
    _until(lambda: len(list_snapshots(run_dir)) >= 2, "two snapshots")
    reaper.watch()
    filler = fill(daemon.state_dir)

    def run() -> dict[str, Any]:
        return daemon.status()["run"] or {}

    _until(lambda: "snapshots failing" in (run().get("reason") or ""), "the run to say why")
    status = daemon.ctl_json("status")
    assert status["run"]["state"] == "degraded"
    assert status["health"]["status"] == "warning"
    assert status["run"]["write_failures"]["snapshot"] >= 1
    health = daemon.ctl("health")
    assert health.returncode == 1 and "snapshots failing" in health.stdout
    at = _iterations(daemon)
    _until(lambda: _iterations(daemon) > at + 50_000, "training to go on on a full disk")
    assert (daemon.state_dir / "active-run.json").exists()

    filler.unlink()  # space returns: the next snapshot works and the trouble clears
    _until(lambda: run().get("state") == "running" and not run().get("reason"), "recovery", 120)
    assert daemon.ctl("health").returncode == 0
    stopped = daemon.ctl_json("stop", "--wait")
    assert stopped["state"] == "finished" and Path(stopped["snapshot"]).is_dir()
    assert _shutdown(daemon) == 0


def test_a_killed_daemon_resumes_from_the_newest_snapshot_that_verifies(
    reaper: Reaper,
    dirs: Any,  # noqa: F811
) -> None:
    daemon = _start_daemon(reaper, dirs)
    daemon.ctl_json("start", str(daemon.config), "--snapshot-interval", "1")
    run_dir = Path(daemon.status()["run"]["run_dir"])
    _until(lambda: len(list_snapshots(run_dir)) >= 3, "three snapshots")
    reaper.watch()
    os.kill(daemon.process.pid, signal.SIGKILL)
    daemon.process.wait()
    *_, good, newest = list_snapshots(run_dir)
    regret = newest.path / "regret.npy"
    regret.write_bytes(regret.read_bytes()[:100])  # truncated: its checksum fails

    again = _start_daemon(reaper, dirs)
    _until(lambda: again.status()["run"] is not None, "the run to be resumed")
    status = again.status()
    assert status["resumed_from"] == str(good.path)
    assert status["run"]["iterations"] >= (good.iteration or 0)
    _until(lambda: _iterations(again) > (newest.iteration or 0), "the resumed run to train")
    log = (again.state_dir / "logs" / "daemon.log").read_text()
    assert f"skipping snapshot {newest.path}" in log and "does not match its sha256" in log
    assert (again.state_dir / "active-run.json").exists()
    assert _shutdown(again) == 0


def test_a_recorded_run_that_cannot_resume_stays_recorded_and_health_is_critical(
    reaper: Reaper,
    dirs: Any,  # noqa: F811
) -> None:
    daemon = _start_daemon(reaper, dirs)
    daemon.ctl_json("start", str(daemon.config), "--snapshot-interval", "1")
    run_dir = Path(daemon.status()["run"]["run_dir"])
    _until(lambda: len(list_snapshots(run_dir)) >= 1, "a snapshot")
    reaper.watch()
    os.kill(daemon.process.pid, signal.SIGKILL)
    daemon.process.wait()
    for snapshot in list_snapshots(run_dir):
        (snapshot.path / "regret.npy").write_bytes(b"")

    again = _start_daemon(reaper, dirs)
    _until(lambda: again.status()["health"]["status"] == "critical", "a critical health")
    status = again.status()
    assert status["run"] is None
    assert "cannot resume the active run" in status["health"]["message"]
    assert "verifies" in status["health"]["message"]
    assert again.ctl("health").returncode == 2
    assert (again.state_dir / "active-run.json").exists()  # never dropped for bad snapshots
    assert _shutdown(again) == 0
