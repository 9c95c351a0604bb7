"""``holdemctl strategy`` against a real daemon training heads-up Hold'em (hunl_quick, real
workers): live look-ups while it trains, a snapshot's answers equal to ``holdemd strategy
show``'s on the same snapshot, a ``--socket-group`` member allowed, mistakes in one line."""

from __future__ import annotations

import contextlib
import grp
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from holdemctl.connection import connect

from holdemd.blueprint.api import Blueprint
from holdemd.lookup.show import look_up, lookup_json
from tests.blueprint.hunl_files import random_decision
from tests.daemon.processes import Reaper
from tests.daemon.test_service_e2e import (
    ROOT,
    Daemon,
    _iterations,
    _read_line,
    _shutdown,
    _start_daemon,
    _until,
)

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(300),
]

# hunl_quick with first-round averaging: later streets average current-strategy snapshots
# taken every 200,000 iterations, which the look-ups must read as strategy show does.
CONFIG = (
    (ROOT / "configs" / "hunl_quick.yaml")
    .read_text()
    .replace("average: all ", "average: first_round ")
    .replace("average_interval: 200m", "average_interval: 200000it")
)
START = ["--time-budget", "1h", "--snapshot-interval", "1h", "--num-workers", "2"]
DECISIONS = 200  # over the socket in-process; a few more through holdemctl and holdemd


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    runtime = Path(tempfile.mkdtemp(prefix="hds", dir="/tmp"))
    config = tmp_path / "hunl.yaml"
    config.write_text(CONFIG)
    assert "average: first_round" in CONFIG and "200000it" in CONFIG
    try:
        yield tmp_path / "state", runtime, config
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _ctl_json(daemon: Daemon, *args: str) -> Any:
    done = daemon.ctl("--json", *args)
    assert done.returncode == 0, f"holdemctl {' '.join(args)}: {done.stderr}{done.stdout}"
    return json.loads(done.stdout)


def _decision_args(hand: str, board: str, history: str) -> list[str]:
    return ["--hand", hand, "--board", board, "--history", history]


def _holdemd_show(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "holdemd.cli", "strategy", "show", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def _as_group_member(daemon: Daemon, group: int, cmd: str, args: dict[str, Any]) -> str:
    """One raw request from a forked child running as uid nobody in ``group``: "ok" or the
    error code (a child process: nobody may not run this checkout's interpreter)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        outcome = "crashed"
        try:
            os.setgroups([])
            os.setgid(group)
            os.setuid(65534)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(60)
                conn.connect(str(daemon.socket))
                line = {"v": 1, "id": 1, "cmd": cmd, "args": args}
                conn.sendall(json.dumps(line).encode() + b"\n")
                reply = json.loads(_read_line(conn))
                outcome = "ok" if reply["ok"] else reply["error"]["code"]
        finally:
            os.write(write_end, outcome.encode())
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as f:
        return f.read().decode()


def test_strategy_lookups_on_a_training_hunl_run(reaper: Reaper, dirs: Any) -> None:
    group = None
    if os.getuid() == 0:
        with contextlib.suppress(KeyError):
            group = grp.getgrnam("nogroup").gr_gid
    extra = ("--socket-group", "nogroup") if group is not None else ()
    daemon = _start_daemon(reaper, dirs, extra=extra, real_workers=True)

    # Idle and no snapshot named: one line, exit 1.
    idle = daemon.ctl("strategy", "show", "--hand", "AsKs")
    assert idle.returncode == 1 and idle.stdout == ""
    assert idle.stderr.startswith("holdemctl: E_NOT_RUNNING: no active run to look up; ")
    assert idle.stderr.count("\n") == 1

    _ctl_json(daemon, "start", str(daemon.config), *START)
    _until(lambda: _iterations(daemon) > 450_000, "training to pass two averaging points", 180)
    reaper.watch()

    # Live tables, while it trains: the iteration count moves on between look-ups.
    first = _ctl_json(daemon, "strategy", "show", "--hand", "AsKs", "--seat", "BTN")
    assert first["snapshot"] is None and first["iteration"] > 0
    assert first["description"].startswith("holdem, live tables of run ")
    assert sum(a["probability"] for a in first["actions"]) == pytest.approx(1.0)
    _until(lambda: _iterations(daemon) > first["iteration"], "training to go on")
    text = daemon.ctl("strategy", "show", *_decision_args("AsKs", "AhKd7c", "r2 c / k"))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[1].startswith("BTN to act on the flop after ")
    ranges = _ctl_json(daemon, "strategy", "range", "--history", "r2 c", "--board", "AhKd7c")
    assert [r["seat"] for r in ranges["ranges"]] == ["BTN", "BB"]
    assert 0 < ranges["ranges"][0]["combos"] <= 1326

    # A snapshot: the daemon's answers are strategy show's, decision by decision.
    snap = _ctl_json(daemon, "snapshot")
    name = Path(snap["path"]).name
    run_dir = Path(snap["path"]).parent.parent
    local = Blueprint.open(run_dir, name)
    rng = np.random.default_rng(11)
    decisions = [random_decision(local, rng) for _ in range(DECISIONS)]
    started = _iterations(daemon)
    seconds = []
    with connect(str(daemon.socket), 120) as client:
        for hand, board, history in decisions:
            args = {"hand": hand, "board": board, "history": history, "snapshot": name}
            begun = time.perf_counter()
            got = client.request("strategy", args)
            seconds.append(time.perf_counter() - begun)
            assert got == lookup_json(local, look_up(local, hand, board, history))
    print(
        f"{DECISIONS} snapshot look-ups over the socket: first {1000 * seconds[0]:.0f} ms, "
        f"then median {1000 * float(np.median(seconds[1:])):.2f} ms, "
        f"max {1000 * max(seconds[1:]):.2f} ms"
    )
    _until(lambda: _iterations(daemon) > started, "training to go on")
    for hand, board, history in decisions[:3]:
        flags = _decision_args(hand, board, history)
        ours = daemon.ctl("--json", "strategy", "show", *flags, "--snapshot", name)
        theirs = _holdemd_show("--run", str(run_dir), "--snapshot", name, "--json", *flags)
        assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
        assert json.loads(ours.stdout) == json.loads(theirs.stdout)
        ours = daemon.ctl("strategy", "show", *flags, "--snapshot", name)
        theirs = _holdemd_show("--run", str(run_dir), "--snapshot", name, *flags)
        assert ours.stdout == theirs.stdout and ours.stdout

    # Mistakes: one line, exit 1, training untouched.
    bad = daemon.ctl("strategy", "show", "--hand", "AsXs")
    assert bad.returncode == 1 and bad.stdout == "", bad.stderr
    assert bad.stderr.startswith("holdemctl: E_BAD_REQUEST: --hand AsXs: bad card 'Xs'")
    assert bad.stderr.count("\n") == 1
    bad = daemon.ctl("strategy", "show", "--hand", "AsKs", "--snapshot", "nope")
    assert bad.returncode == 1 and "no snapshot 'nope'" in bad.stderr
    assert bad.stderr.count("\n") == 1

    # A --socket-group member may look up (read-only), not pause.
    if group is not None:
        look = {"hand": "AsKs", "history": "r2"}
        assert _as_group_member(daemon, group, "strategy", look) == "ok"
        assert _as_group_member(daemon, group, "range", {}) == "ok"
        assert _as_group_member(daemon, group, "pause", {}) == "E_PERMISSION"
    assert daemon.status()["run"]["state"] == "running"

    # After the run: no live tables, but its snapshots still answer.
    assert _ctl_json(daemon, "stop", "--wait")["state"] == "finished"
    gone = daemon.ctl("strategy", "show", "--hand", "AsKs")
    assert gone.returncode == 1 and "E_NOT_RUNNING" in gone.stderr
    hand, board, history = decisions[0]
    past = _ctl_json(
        daemon, "strategy", "show", *_decision_args(hand, board, history), "--snapshot", name
    )
    assert past == lookup_json(local, look_up(local, hand, board, history))
    assert _shutdown(daemon) == 0
