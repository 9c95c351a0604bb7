"""Issue 11's faults that end or poison a run, each reproduced: forged worker messages, a
corrupt or altered snapshot, a stop right after a resume, leaked shared memory, the live line.

The end-to-end cases run real Leduc workers through the supervisor's Python API (helpers from
``test_supervisor_e2e``); the rest call the pieces directly.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zmq

from holdemd.cli.live_line import LiveLine, LiveLineHandler
from holdemd.config.schema import Config, GameConfig
from holdemd.errors import SnapshotError
from holdemd.games.factory import build_game
from holdemd.protocol.codec import encode
from holdemd.protocol.worker import NONCE_ENV, Delta, Hello
from holdemd.rundir.load import load_snapshot
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_read import read_manifest
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.rundir.snapshots import snapshot_name
from holdemd.rundir.status import read_status
from holdemd.rundir.store import latest_snapshot
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.tables import Tables, merge_rows
from holdemd.training.plan import build_run, plan_run
from holdemd.training.run import TrainingRun
from holdemd.training.shared_tables import remove_orphaned_segments
from tests.daemon.processes import Reaper
from tests.daemon.test_supervisor_e2e import _leduc, _supervisor, _train, _until

JIT_ONLY = pytest.mark.needs_jit(reason="real training runs need the kernels")
LINUX_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"
)
FLOAT32_MAX = float(np.finfo(np.float32).max)


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


# --------------------------------------------------------------------------------------------
# Forged worker messages (defect 5)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@JIT_ONLY
@LINUX_ONLY
def test_a_copied_nonce_cannot_take_a_live_workers_slot(tmp_path: Path) -> None:
    """The nonce is not on the world-readable command line, and a second hello carrying it
    (read from the worker's environment by a process of the same uid) is refused, as are the
    float32-max deltas that took over a slot's place in the fault campaign."""
    seen: dict[str, object] = {}

    async def impersonate(supervisor: TrainingRun) -> None:
        slot = supervisor.slots[0]
        await _until(lambda: slot.merged_iterations > 0, "worker 0 merged a batch")
        assert slot.pid is not None
        nonce = _environ(slot.pid)[NONCE_ENV]
        seen["cmdline"] = Path(f"/proc/{slot.pid}/cmdline").read_bytes()
        seen["nonce"] = nonce
        identity = slot.identity
        dropped = supervisor.dropped
        rows = np.arange(4, dtype=np.int32)
        huge = np.full((4, supervisor.game.max_actions), FLOAT32_MAX, dtype=np.float32)
        context = zmq.Context()
        socket = context.socket(zmq.DEALER)
        try:
            socket.connect(supervisor.endpoint)
            socket.send(encode(Hello(pid=1, slot=0, incarnation=slot.incarnation, nonce=nonce)))
            forged = Delta(0, slot.incarnation, 99, 10, 0.1, rows, huge, huge)
            socket.send(encode(forged))
            await _until(lambda: supervisor.dropped >= dropped + 2, "both messages are dropped")
        finally:
            socket.close(linger=0)
            context.term()
        assert slot.identity == identity  # the worker keeps its slot
        seen["finite"] = bool(
            np.isfinite(supervisor.tables.regret).all()
            and np.isfinite(supervisor.tables.strategy_sum).all()
        )

    supervisor = _supervisor(tmp_path / "run", _leduc(300_000), workers=1, batch=2_000)
    result = _train(supervisor, impersonate)
    assert str(seen["nonce"]).encode() not in seen["cmdline"]  # type: ignore[operator]
    assert seen["finite"] is True
    assert result.iterations >= 300_000
    status = read_status(tmp_path / "run")
    assert status["state"] == "finished"
    assert status["workers"][0]["restarts"] == 0


def test_deltas_beyond_a_batchs_bounds_are_refused_before_they_are_merged(
    tmp_path: Path,
) -> None:
    supervisor = _supervisor(tmp_path / "run", _leduc(1_000), workers=1, batch=2_000)
    try:
        slot = supervisor.slots[0]
        actions = supervisor.game.max_actions
        rows = np.array([3, 7], dtype=np.int32)

        def delta(iterations: int, regret: float, strategy: float = 0.5) -> Delta:
            return Delta(
                0,
                slot.incarnation,
                1,
                iterations,
                0.1,
                rows,
                np.full((2, actions), regret, dtype=np.float32),
                np.full((2, actions), strategy, dtype=np.float32),
            )

        before = supervisor.tables.regret.copy()
        refused = [
            delta(10, FLOAT32_MAX),  # finite, but it turned tables infinite
            delta(10, 1.0, strategy=FLOAT32_MAX),
            delta(2**62, 1.0),  # more iterations than a batch holds
            delta(2_001, 1.0),
            delta(-1, 1.0),
            # Leduc's largest payoff is 13: ten iterations change a regret by at most 260.
            delta(10, 1e6),
        ]
        for bad in refused:
            assert not supervisor.merge_delta(slot, bad, 0.0), bad.iterations
        assert np.array_equal(supervisor.tables.regret, before)
        assert supervisor.iteration == 0
        assert supervisor.dropped == len(refused)
        assert supervisor.merge_delta(slot, delta(10, 20.0), 0.0)  # an honest batch
        assert supervisor.iteration == 10
        assert supervisor.tables.regret[3, 0] == 20.0
    finally:
        supervisor.close()


def test_a_merge_that_would_overflow_the_tables_writes_nothing() -> None:
    regret = np.full((3, 2), FLOAT32_MAX / 2, dtype=np.float32)
    strategy_sum = np.ones((3, 2), dtype=np.float32)
    tables = Tables(regret, strategy_sum)
    rows = np.array([0, 2], dtype=np.int32)
    big = np.full((2, 2), FLOAT32_MAX / 1.5, dtype=np.float32)
    small = np.ones((2, 2), dtype=np.float32)
    rng = make_rng_state(0)
    assert not merge_rows(tables, rows, big, small, None, rng)
    assert not merge_rows(tables, rows, small, np.full((2, 2), np.inf, np.float32), None, rng)
    assert np.all(regret == np.float32(FLOAT32_MAX / 2)) and np.all(strategy_sum == 1)
    assert merge_rows(tables, rows, -big, small, None, rng)
    assert np.isfinite(regret).all() and strategy_sum[0, 0] == 2 and strategy_sum[1, 0] == 1


# --------------------------------------------------------------------------------------------
# Snapshots that do not verify (defects 3 and 6)


LEDUC = Config(game=GameConfig(name="leduc"))


def _write_leduc_snapshot(run_dir: Path, iteration: int, fill: float = 0.0) -> Path:
    game = build_game(LEDUC.game)
    shape = (game.num_rows, game.max_actions)
    arrays = {
        "regret": np.full(shape, fill, dtype=np.float32),
        "strategy_sum": np.ones(shape, dtype=np.float32),
    }
    manifest = snapshot_manifest(
        LEDUC, game, iteration=iteration, elapsed=1.0, rng_state=0, sequence=iteration // 1000
    )
    return write_snapshot(run_dir, snapshot_name(iteration), arrays, manifest).path


def test_a_snapshot_with_nan_tables_is_refused_and_resume_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_dir = tmp_path / "run"
    _write_leduc_snapshot(run_dir, 1_000)
    bad = _write_leduc_snapshot(run_dir, 2_000, fill=np.nan)  # checksums match: NaN was written
    with pytest.raises(SnapshotError, match="regret holds NaN or infinite values") as info:
        load_snapshot(run_dir, bad.name)
    assert "\n" not in str(info.value)
    with pytest.raises(SnapshotError, match="NaN"):
        load_snapshot(run_dir)  # no fallback unless asked: eval names what it reads
    caplog.set_level(logging.WARNING, logger="holdemd")
    plan = plan_run(None, {}, resume=run_dir)
    assert plan.resume is not None and plan.resume.iteration == 1_000
    assert plan.resume.skipped and "it-000000002000" in plan.resume.skipped[0]
    assert any(
        "skipping snapshot" in r.getMessage() and bad.name in r.getMessage() for r in caplog.records
    )


def test_a_truncated_newest_snapshot_falls_back_to_the_newest_that_verifies(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    _write_leduc_snapshot(run_dir, 1_000)
    _write_leduc_snapshot(run_dir, 2_000)
    newest = _write_leduc_snapshot(run_dir, 3_000)
    regret = newest / "regret.npy"
    regret.write_bytes(regret.read_bytes()[:100])
    loaded = load_snapshot(run_dir, fallback=True)
    assert loaded.info.name == "it-000000002000"
    assert [s.split(":")[0] for s in loaded.skipped] == ["it-000000003000"]
    plan = plan_run(None, {}, resume=run_dir)
    assert plan.resume is not None and plan.resume.iteration == 2_000
    # Every snapshot bad: one line that names the newest's problem.
    for path in (run_dir / "snapshots").iterdir():
        (path / "regret.npy").write_bytes(b"")
    with pytest.raises(SnapshotError, match=r"no snapshot in .* verifies \(3 tried; newest: it-"):
        load_snapshot(run_dir, fallback=True)


def test_an_altered_manifest_is_refused(tmp_path: Path) -> None:
    path = _write_leduc_snapshot(tmp_path / "run", 1_000)
    text = (path / "manifest.json").read_text()
    (path / "manifest.json").write_text(
        text.replace('"iteration": 1000', '"iteration": 1000001000')
    )
    with pytest.raises(SnapshotError, match=r"manifest\.json does not match its manifest_sha256"):
        read_manifest(path)
    with pytest.raises(SnapshotError, match="no snapshot"):
        load_snapshot(tmp_path / "run", fallback=True)


# --------------------------------------------------------------------------------------------
# A stop right after a resume (defect 7), the snapshot's age (defect 10)


@JIT_ONLY
def test_a_stop_right_after_a_resume_ends_cleanly_with_the_resumed_snapshot(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    first = _train(_supervisor(run_dir, _leduc(20_000), workers=1, batch=2_000))
    assert first.snapshot is not None
    written_at = read_manifest(first.snapshot.path)["written_at"]
    status = read_status(run_dir)
    # The time the snapshot was written, not the time of the status update.
    assert status["last_snapshot"]["written_at"] == written_at
    assert status["updated_at"] != written_at

    async def stop_at_once(supervisor: TrainingRun) -> None:
        supervisor.request_stop("test")

    plan = plan_run(None, {"training.iterations": 40_000}, resume=run_dir)
    result = _train(build_run(plan), stop_at_once)
    assert result.snapshot is not None
    assert result.snapshot.name == first.snapshot.name
    assert result.iterations == first.iterations
    assert read_status(run_dir)["state"] == "finished"


@JIT_ONLY
def test_resuming_a_finished_run_ends_at_once_with_exit_code_0(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train = [sys.executable, "-m", "holdemd.cli", "train", "--num-workers", "1"]
    done = subprocess.run(
        [
            *train,
            "--config",
            "configs/leduc.yaml",
            "--iterations",
            "20000",
            "--logdir",
            str(run_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [*train, "--resume", str(run_dir)], capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert "trained leduc: 20,000 iterations" in again.stdout
    snapshot = latest_snapshot(run_dir)
    assert snapshot is not None and snapshot.iteration == 20_000


# --------------------------------------------------------------------------------------------
# Shared memory of a killed process group (defect 12)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@LINUX_ONLY
def test_segments_of_dead_supervisors_are_removed_and_live_ones_kept() -> None:
    dead = Path(f"/dev/shm/holdemd-{_dead_pid()}-regret-0123abcd")
    mine = Path(f"/dev/shm/holdemd-{os.getpid()}-regret-test-{os.getpid()}")
    other = Path(f"/dev/shm/not-holdemd-{_dead_pid()}-x")
    for path in (dead, mine, other):
        path.write_bytes(b"\0" * 64)
    try:
        removed = remove_orphaned_segments()
        assert dead.name in removed
        assert not dead.exists()
        assert mine.exists() and other.exists()
    finally:
        for path in (dead, mine, other):
            path.unlink(missing_ok=True)


@JIT_ONLY
@LINUX_ONLY
def test_a_run_after_a_process_group_kill_removes_what_it_leaked(
    tmp_path: Path, reaper: Reaper
) -> None:
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "holdemd.cli", "train", "--config", "configs/leduc.yaml"]
    killed = subprocess.Popen(
        [*command, "--time-budget", "60", "--num-workers", "1", "--logdir", str(tmp_path / "a")],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, resource tracker included
    )
    reaper.add_supervisor(killed.pid)
    leaked = Path("/dev/shm")
    try:
        assert _wait(lambda: len(list(leaked.glob(f"holdemd-{killed.pid}-*"))) == 2, 60)
        reaper.watch()
        os.killpg(killed.pid, 9)
        killed.wait(10)
        assert _wait(
            lambda: (
                not any(Path(f"/proc/{pid}").exists() for pid in reaper.seen if pid != os.getpid())
            ),
            15,
        )
        assert len(list(leaked.glob(f"holdemd-{killed.pid}-*"))) == 2  # leaked: nobody unlinked
        subprocess.run(
            [
                *command,
                "--iterations",
                "2000",
                "--num-workers",
                "1",
                "--logdir",
                str(tmp_path / "b"),
            ],
            cwd=root,
            capture_output=True,
            timeout=120,
            check=True,
        )
        assert not list(leaked.glob(f"holdemd-{killed.pid}-*"))
    finally:
        if killed.poll() is None:
            os.killpg(killed.pid, 9)


def _wait(predicate: object, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --------------------------------------------------------------------------------------------
# The live progress line (frictions)


def test_the_live_line_fits_the_terminal_and_log_lines_print_above_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    stream = io.StringIO()
    live = LiveLine(stream)
    live.show("running  " + "x" * 200)
    assert stream.getvalue() == "\r\x1b[K" + ("running  " + "x" * 200)[:79]
    handler = LiveLineHandler(live)
    handler.setStream(stream)
    stream.seek(0)
    stream.truncate()
    handler.emit(logging.LogRecord("holdemd", logging.INFO, "", 0, "worker 1 ready", None, None))
    # Erase the progress line, print the record on its own line, draw the progress line again.
    assert stream.getvalue() == "\r\x1b[Kworker 1 ready\n" + live.text
    live.finish()
    assert stream.getvalue().endswith(("x" * 10) + "\n") and live.text == ""
