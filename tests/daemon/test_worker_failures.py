"""The supervisor's handling of workers that crash, hang, raise, never get ready or start late.

Every test here runs the real supervisor with fake workers (tests/fakes/worker.py): they speak
the worker protocol but run no kernel, so no numba compile, and faults come from the fake's
flags instead of a hook in the real worker. Signals (SIGSTOP, SIGKILL) are real. The slot's
decisions on their own (hang, busy, backoff) are unit-tested with fake clocks at the end.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from holdemd.config.schema import Config
from holdemd.errors import ExitCode, HoldemdError
from holdemd.rundir.status import read_status
from holdemd.rundir.store import latest_snapshot
from holdemd.training.run import RunOptions, TrainingRun
from holdemd.training.slots import Timeouts, WorkerSlot
from tests.daemon.processes import Reaper, alive, proc_stat, signal_process
from tests.daemon.test_supervisor_e2e import (
    _leduc,
    _matching,
    _messages,
    _train,
    _until,
    with_batch,
)
from tests.fakes import worker as fake

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.timeout(120),
]

ROOT = Path(__file__).resolve().parents[2]
FAULT = f"RuntimeError: {fake.FAULT_MESSAGE}"
BATCH = 200


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


def _supervisor(
    run_dir: Path,
    config: Config,
    workers: int,
    *fake_args: str,
    timeouts: Timeouts | None = None,
    stop_timeout: float = 60.0,
) -> TrainingRun:
    options = RunOptions(
        num_workers=workers,
        timeouts=timeouts or Timeouts(),
        status_interval=0.2,
        stop_timeout=stop_timeout,
        worker_command=fake.command(*fake_args),
    )
    return TrainingRun(with_batch(config, BATCH), run_dir, options)


# --------------------------------------------------------------------------------------------
# Hung, raising and failing workers


def test_a_stopped_worker_is_declared_hung_and_replaced(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="holdemd")
    run_dir = tmp_path / "run"
    timeouts = Timeouts(
        heartbeat_interval=0.2, liveness=1.0, progress_min=1.0, backoff_first=0.1, kill_grace=1.0
    )
    stopped: list[tuple[int, int]] = []  # (pid, start time)
    seen: dict[str, float] = {}

    async def stop_worker_1(supervisor: TrainingRun) -> None:
        slot = supervisor.slots[1]
        await _until(lambda: slot.merged_iterations > 0, "worker 1 merged a batch")
        assert slot.pid is not None
        stat = proc_stat(slot.pid)
        assert stat is not None
        stopped.append((slot.pid, stat[2]))
        os.kill(slot.pid, signal.SIGSTOP)
        started = time.monotonic()
        await _until(lambda: slot.incarnation == 2, "worker 1 is replaced")
        seen["replaced_after"] = time.monotonic() - started
        merged = slot.merged_iterations
        await _until(lambda: slot.merged_iterations > merged, "the new worker 1 merged a batch")
        supervisor.stop_requested = True

    supervisor = _supervisor(run_dir, _leduc(time_budget=60), 2, timeouts=timeouts)
    try:
        result = _train(supervisor, stop_worker_1)
    finally:
        for pid, start in stopped:
            signal_process(pid, start, signal.SIGCONT, signal.SIGKILL)

    # Liveness (1 s), then two seconds of watching its CPU time: about 3 s.
    assert seen["replaced_after"] < 10
    messages = _messages(caplog)
    hung = _matching(
        r"worker 1 hung: no message for \d+ s and no CPU time used; restarting in 0\.1 s",
        messages,
    )
    assert len(hung) == 1, messages
    assert len(_matching(r"worker 1 started \(pid \d+, incarnation 2\)", messages)) == 1
    assert not _matching(r"worker 0 .*(hung|exited).*", messages)
    assert not alive(*stopped[0])  # the supervisor killed the stopped process
    assert result.stopped_by == "interrupted"
    status = read_status(run_dir)
    assert status["state"] == "finished"
    worker = status["workers"][1]
    assert worker["restarts"] == 1 and worker["state"] == "stopped"
    assert re.fullmatch(r"hung: no message for \d+ s and no CPU time used", worker["last_error"])


FAST_HANG_CHECK = Timeouts(
    heartbeat_interval=0.2, liveness=1.0, progress_min=1.0, backoff_first=0.1, kill_grace=1.0
)


def test_a_worker_that_hangs_is_replaced(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="holdemd")

    async def until_replaced(supervisor: TrainingRun) -> None:
        slot = supervisor.slots[0]
        await _until(lambda: slot.incarnation == 2, "the hanging worker is replaced", 30)
        await _until(lambda: slot.state == "running", "the new one runs")
        supervisor.stop_requested = True

    faults = ("--fault", "hang", "--after", "2", "--first-incarnation-only")
    supervisor = _supervisor(
        tmp_path / "run", _leduc(time_budget=60), 1, *faults, timeouts=FAST_HANG_CHECK
    )
    result = _train(supervisor, until_replaced)
    messages = _messages(caplog)
    assert _matching(r"worker 0 hung: no message for \d+ s and no CPU time used; .*", messages)
    assert result.stopped_by == "interrupted"
    assert read_status(tmp_path / "run")["workers"][0]["restarts"] == 1


def test_a_worker_busy_without_a_word_is_not_taken_for_hung(tmp_path, caplog):
    """Silent four times longer than the liveness timeout, but computing: spared, warned
    about once (a long kernel call is not a hang)."""
    caplog.set_level(logging.INFO, logger="holdemd")

    async def until_busy_and_back(supervisor: TrainingRun) -> None:
        slot = supervisor.slots[0]
        await _until(lambda: slot.busy_warned, "the busy worker is noticed", 30)
        marked = slot.merged_iterations
        await _until(lambda: slot.merged_iterations > marked, "it trains on", 30)
        supervisor.stop_requested = True

    faults = ("--fault", "busy", "--busy-seconds", "4", "--after", "2")
    supervisor = _supervisor(
        tmp_path / "run", _leduc(time_budget=60), 1, *faults, timeouts=FAST_HANG_CHECK
    )
    result = _train(supervisor, until_busy_and_back)
    messages = _messages(caplog)
    assert _matching(
        r"worker 0: no message for \d+ s, but it is using CPU: busy, not hung", messages
    )
    assert not _matching(r"worker 0 (hung|exited).*", messages)
    assert result.stopped_by == "interrupted"
    assert read_status(tmp_path / "run")["workers"][0]["restarts"] == 0


def test_a_worker_that_keeps_raising_degrades_the_run(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="holdemd")
    run_dir = tmp_path / "run"
    timeouts = Timeouts(failures_allowed=2, backoff_first=0.1)
    degraded_status: dict[str, Any] = {}

    async def until_degraded(supervisor: TrainingRun) -> None:
        await _until(lambda: supervisor.degraded_reason is not None, "the run is degraded")
        merged = supervisor.slots[0].merged_iterations
        await _until(lambda: supervisor.slots[0].merged_iterations > merged, "worker 0 trains on")
        await _until(lambda: read_status(run_dir)["state"] == "degraded", "status.json says so")
        degraded_status.update(read_status(run_dir))
        supervisor.stop_requested = True

    # Slot 1 raises after 5 batches, in every incarnation.
    supervisor = _supervisor(
        run_dir,
        _leduc(time_budget=60),
        2,
        "--fault",
        "raise",
        "--slots",
        "1",
        "--after",
        "5",
        timeouts=timeouts,
    )
    result = _train(supervisor, until_degraded)

    exit_reason = f"exited with code 1 after {FAULT}"
    reason = f"worker 1 failed 2 times in 120 s and is not restarted: {exit_reason}"
    messages = _messages(caplog)
    raised = _matching(
        rf"worker 1 raised {FAULT}\nTraceback \(most recent call last\):\n.*"
        rf'File ".*tests/fakes/worker.py", line \d+, in _inject_fault\n.*\n{FAULT}',
        messages,
    )
    assert len(raised) == 2, messages  # both incarnations
    assert f"worker 1 {exit_reason}; restarting in 0.1 s" in messages
    assert f"run degraded: {reason}" in messages
    assert degraded_status["reason"] == reason
    assert result.stopped_by == "interrupted"
    status = read_status(run_dir)
    assert status["state"] == "degraded" and status["reason"] == reason
    healthy, failed = status["workers"]
    assert healthy["state"] == "stopped" and healthy["last_error"] is None
    assert failed["state"] == "failed" and failed["restarts"] == 1
    assert failed["last_error"] == exit_reason
    traceback = failed["last_traceback"]
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert "in _inject_fault" in traceback and traceback.endswith(f"{FAULT}\n")


def _fail_every_worker(run_dir: Path) -> HoldemdError:
    """A one-worker run whose worker raises in every incarnation, the error it ends with."""
    # A few batches first: a worker that fails within the start-up check's first tick after
    # `ready` fails the start-up check instead.
    timeouts = Timeouts(failures_allowed=2, backoff_first=0.1)
    supervisor = _supervisor(
        run_dir,
        _leduc(time_budget=60),
        1,
        "--fault",
        "raise",
        "--after",
        "20",
        timeouts=timeouts,
    )
    with pytest.raises(HoldemdError) as raised:
        _train(supervisor)
    assert not supervisor.slots[0].alive
    return raised.value


ALL_FAILED = (
    f"worker 0 failed 2 times in 120 s and is not restarted: exited with code 1 after {FAULT}"
)


def test_a_run_whose_every_worker_fails_ends_with_the_reason(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="holdemd")
    error = _fail_every_worker(tmp_path / "run")
    assert str(error) == f"no worker can run: {ALL_FAILED}"
    assert error.exit_code == ExitCode.FAILURE
    assert f"run degraded: {ALL_FAILED}" in _messages(caplog)


def test_status_of_a_run_whose_every_worker_failed_says_so(tmp_path):
    _fail_every_worker(tmp_path / "run")
    status = read_status(tmp_path / "run")
    assert status["state"] == "failed" and status["reason"] == ALL_FAILED
    assert status["workers"][0]["state"] == "failed"


def test_status_after_the_iteration_target_shows_the_worker_stopped(tmp_path):
    _train(_supervisor(tmp_path / "run", _leduc(20_000), 1))
    status = read_status(tmp_path / "run")
    assert status["state"] == "finished"
    assert status["workers"][0]["state"] == "stopped"
    memory = status["table_memory"]  # Leduc's dense float32 tables: 288 rows x 3 actions x 2
    assert (memory["kind"], memory["bytes"], memory["growth_bytes_per_h"]) == ("dense", 6912, 0)
    assert memory["regret_blocks"] == memory["blocks"] and memory["warning"] is None


def test_a_worker_that_says_hello_after_the_target_is_stopped_at_once(tmp_path):
    # Worker 1 starts after worker 0 is ready, which takes no time here: the target (10
    # batches) is reached while worker 1 is still starting.
    supervisor = _supervisor(
        tmp_path / "run", _leduc(2_000), 2, "--batch-seconds", "0.001", stop_timeout=30.0
    )
    result = _train(supervisor)
    assert result.iterations <= 2_000 + 4 * BATCH, f"{result.iterations:,} iterations"
    # Told to stop at its hello, it exits by itself (code 0) instead of training until the
    # stop timeout and being killed.
    assert [slot.process.returncode for slot in supervisor.slots if slot.process] == [0, 0]


def test_a_worker_that_never_gets_ready_fails_the_start_up_check(tmp_path):
    timeouts = Timeouts(compile=1.0, kill_grace=0.5)
    supervisor = _supervisor(
        tmp_path / "run", _leduc(2_000), 2, "--fault", "no-ready", timeouts=timeouts
    )
    with pytest.raises(
        HoldemdError, match="worker 0 could not start: it did not get ready in time"
    ):
        _train(supervisor)
    assert supervisor.slots[1].process is None  # the others wait for the first to get ready


def test_a_worker_that_exits_before_hello_fails_the_start_up_check(tmp_path):
    supervisor = _supervisor(tmp_path / "run", _leduc(2_000), 1, "--fault", "exit-at-once")
    with pytest.raises(HoldemdError, match="worker 0 could not start: exited with code 3"):
        _train(supervisor)


def test_the_time_budget_starts_when_the_first_worker_is_ready(tmp_path):
    """A first start compiles the kernels for half a minute or more: that is not training
    time (the Quickstart's 45 s run trained a fifth of what a warm one did, a 5 s budget
    nothing at all)."""
    supervisor = _supervisor(tmp_path / "run", _leduc(time_budget=1.0), 1, "--compile-seconds", "3")
    started = time.monotonic()
    result = _train(supervisor)
    assert time.monotonic() - started > 3.5  # compile (3 s) + budget (1 s)
    assert result.stopped_by == "time budget"
    assert result.iterations > 0
    assert 1.0 <= result.elapsed_seconds < 2.0


# --------------------------------------------------------------------------------------------
# Through the command line


def test_a_worker_that_cannot_start_fails_the_start_up_check(tmp_path):
    config = tmp_path / "leduc.yaml"
    config.write_text(
        "game:\n  name: leduc\ntraining:\n  iterations: 0\n  time_budget: 10m\n"
        "  num_workers: 2\n  tensorboard: false\n"
    )
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "fakes" / "cli.py"),
            "--fault",
            "raise",
            "--after",
            "-1",
            "--",
            "train",
            "--config",
            str(config),
            "--logdir",
            str(run_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == ExitCode.FAILURE
    log = run_dir / "logs" / "train.log"
    assert proc.stderr.splitlines()[-1] == (
        f"holdemd: start-up check failed: worker 0 could not start: {FAULT} (log: {log})"
    )
    assert proc.stderr.count("Traceback (most recent call last)") == 1  # the worker's, logged
    text = log.read_text()
    assert f"worker 0 raised {FAULT}\nTraceback (most recent call last):" in text
    assert "worker 1 started" not in text  # the others wait for the first to get ready
    assert proc.stdout == "" and latest_snapshot(run_dir) is None


# --------------------------------------------------------------------------------------------
# The slot's decisions, with fake clocks


def _running_slot(cpu: list[float]) -> WorkerSlot:
    slot = WorkerSlot(slot=0, state="running", last_message_at=0.0, last_progress_at=0.0)
    slot.cpu_reader = lambda pid: cpu[0]
    slot.process = type("P", (), {"pid": 42, "returncode": None})()
    return slot


def test_a_silent_worker_that_uses_no_cpu_is_hung_after_watching_it_two_seconds():
    timeouts = Timeouts(liveness=10.0)
    cpu = [5.0]
    slot = _running_slot(cpu)
    assert slot.suspect_reason(10.0, timeouts) is None  # within liveness
    assert slot.suspect_reason(11.0, timeouts) is None  # suspect: first CPU reading
    assert slot.suspect_reason(12.5, timeouts) is None  # judged over 2 s at least
    assert slot.suspect_reason(13.0, timeouts) == "no message for 13 s and no CPU time used"


def test_a_silent_worker_that_uses_cpu_is_busy_not_hung():
    timeouts = Timeouts(liveness=10.0)
    cpu = [5.0]
    slot = _running_slot(cpu)
    assert slot.suspect_reason(11.0, timeouts) is None
    cpu[0] = 6.5  # 1.5 s of CPU in 2 s
    assert slot.suspect_reason(13.0, timeouts) is None
    assert slot.busy_warned
    cpu[0] = 6.6  # then it stops computing
    assert slot.suspect_reason(15.5, timeouts) == "no message for 16 s and no CPU time used"


def test_no_progress_is_judged_by_typical_batch_times_when_those_are_long():
    timeouts = Timeouts(liveness=10.0, progress_min=30.0, progress_batches=10.0)
    slot = _running_slot([0.0])
    slot.batch_seconds.extend([5.0, 6.0, 7.0])  # median 6 s: the limit is 60 s, not 30 s
    slot.last_message_at = 50.0
    assert slot.suspect_reason(55.0, timeouts) is None
    slot.last_message_at = 61.0
    assert slot.suspect_reason(61.0, timeouts) is None  # 61 s without progress: suspect ...
    assert slot.suspect_reason(63.5, timeouts) == (
        "no progress for 64 s (limit 60 s) and no CPU time used"
    )


def test_restarts_back_off_exponentially_and_the_slot_gives_up_within_the_window():
    timeouts = Timeouts(backoff_first=0.5, backoff_max=3.0, failures_allowed=5, failure_window=100)
    slot = WorkerSlot(slot=0)
    delays = []
    for now in (0.0, 1.0, 2.0, 3.0):
        assert slot.record_failure("exited", timeouts, now=now)
        assert slot.restart_at is not None
        delays.append(slot.restart_at - now)
    assert delays == [0.5, 1.0, 2.0, 3.0]  # doubling, capped at backoff_max
    assert not slot.record_failure("exited", timeouts, now=4.0)  # the fifth within 100 s
    assert slot.state == "failed" and slot.restart_at is None


def test_failures_outside_the_window_are_forgotten():
    timeouts = Timeouts(backoff_first=0.5, failures_allowed=3, failure_window=10)
    slot = WorkerSlot(slot=0)
    assert slot.record_failure("exited", timeouts, now=0.0)
    assert slot.record_failure("exited", timeouts, now=5.0)
    assert slot.record_failure("exited", timeouts, now=20.0)  # the first two are 15 s old
    assert slot.restart_at == 20.0 + 0.5 and slot.state == "restarting"
