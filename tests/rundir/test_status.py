"""Tests of holdemd.rundir.status: the atomic RUN/status.json, its schema, and status_line."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import holdemd
from holdemd.errors import ExitCode, UsageError
from holdemd.rundir import status as status_module
from holdemd.rundir.status import (
    STATUS_SCHEMA_VERSION,
    RunStatus,
    WorkerStatus,
    read_status,
    status_from_dict,
    status_line,
    status_to_dict,
    utc_now_iso,
    write_status,
)

REPO = Path(__file__).resolve().parents[2]

# Changing these lists is changing the file format scripts rely on: add keys freely, but
# renaming or removing one needs STATUS_SCHEMA_VERSION bumped (and the README updated).
TOP_LEVEL_KEYS = [
    "schema",
    "run_id",
    "state",
    "reason",
    "game",
    "iterations",
    "iterations_target",
    "iterations_per_s",
    "elapsed_s",
    "time_budget_s",
    "eta_s",
    "workers",
    "last_snapshot",
    "pid",
    "started_at",
    "updated_at",
    "dropped_messages",
    "version",
    "write_failures",
    "litmus",
    "table_memory",
    "hosts",
]
WORKER_KEYS = [
    "slot",
    "pid",
    "incarnation",
    "state",
    "iterations",
    "iterations_per_s",
    "last_heartbeat_age_s",
    "rss_bytes",
    "restarts",
    "last_error",
    "last_traceback",
]


def worker(slot: int, state: str = "running", **changes: object) -> WorkerStatus:
    base = WorkerStatus(
        slot=slot,
        pid=4000 + slot,
        incarnation=0,
        state=state,  # type: ignore[arg-type]
        iterations=600_000 + slot,
        iterations_per_s=20_615.0,
        last_heartbeat_age_s=0.4,
        rss_bytes=512 << 20,
        restarts=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def run_status(**changes: object) -> RunStatus:
    base = RunStatus(
        run_id="leduc-20240501-120000",
        state="running",
        reason=None,
        game="leduc",
        iterations=1_234_567,
        iterations_target=10_000_000,
        iterations_per_s=41_230.4,
        elapsed_s=302.0,
        time_budget_s=1800.0,
        eta_s=211.0,
        workers=[worker(0), worker(1)],
        last_snapshot={
            "name": "it-000001000000",
            "path": "runs/leduc/snapshots/it-000001000000",
            "iteration": 1_000_000,
            "written_at": "2024-05-01T12:04:10.123+00:00",
        },
        pid=3999,
        started_at="2024-05-01T12:00:00.000+00:00",
        updated_at="2024-05-01T12:05:02.000+00:00",
        dropped_messages=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_round_trip(tmp_path: Path) -> None:
    status = run_status(
        workers=[
            worker(0),
            worker(
                1,
                "restarting",
                pid=None,
                incarnation=2,
                restarts=2,
                last_heartbeat_age_s=None,
                rss_bytes=None,
                last_error="MemoryError: table too large",
                last_traceback='Traceback (most recent call last):\n  File "w.py"\nMemoryError\n',
            ),
        ]
    )
    write_status(tmp_path, status)
    data = read_status(tmp_path)
    assert data == status_to_dict(status)
    assert status_from_dict(data) == status
    assert data["schema"] == STATUS_SCHEMA_VERSION
    assert data["version"] == holdemd.__version__
    # Plain JSON that any tool reads, one key per line for grep.
    text = (tmp_path / "status.json").read_text()
    assert json.loads(text) == data
    assert '\n  "iterations": 1234567,\n' in text


def test_unknown_keys_from_a_newer_writer_are_ignored(tmp_path: Path) -> None:
    data = status_to_dict(run_status())
    data["gpu"] = "none"
    data["workers"][0]["numa_node"] = 0
    (tmp_path / "status.json").write_text(json.dumps(data))
    assert read_status(tmp_path) == data
    assert status_from_dict(data) == run_status()


def test_schema_keys_are_exactly_these() -> None:
    data = status_to_dict(run_status())
    assert list(data) == TOP_LEVEL_KEYS
    assert [list(w) for w in data["workers"]] == [WORKER_KEYS, WORKER_KEYS]
    assert list(data["last_snapshot"]) == ["name", "path", "iteration", "written_at"]


def test_write_is_atomic_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_status(tmp_path, run_status(iterations=1))
    before = (tmp_path / "status.json").read_bytes()

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_status(tmp_path, run_status(iterations=2))
    assert (tmp_path / "status.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def test_the_first_write_creates_the_run_directory(tmp_path: Path) -> None:
    write_status(tmp_path / "runs" / "leduc", run_status())
    assert read_status(tmp_path / "runs" / "leduc")["run_id"] == "leduc-20240501-120000"


def test_non_finite_numbers_are_written_as_null(tmp_path: Path) -> None:
    status = run_status(iterations_per_s=math.nan, eta_s=math.inf)
    write_status(tmp_path, status)
    data = json.loads((tmp_path / "status.json").read_text())  # strict JSON: no NaN token
    assert data["iterations_per_s"] is None
    assert data["eta_s"] is None


def test_errors_are_one_line_and_tracebacks_bounded() -> None:
    long_traceback = "Traceback (most recent call last):\n" + "  frame\n" * 5000 + "KeyError: 'x'"
    status = run_status(
        reason="worker 1 failed 5 times\nin 10 minutes",
        workers=[worker(0, last_error="ValueError: bad\n  delta", last_traceback=long_traceback)],
    )
    data = status_to_dict(status)
    assert data["reason"] == "worker 1 failed 5 times in 10 minutes"
    assert data["workers"][0]["last_error"] == "ValueError: bad delta"
    kept = data["workers"][0]["last_traceback"]
    assert len(kept) == status_module.MAX_TRACEBACK_CHARS
    assert kept.startswith("...\n") and kept.endswith("KeyError: 'x'")
    assert len(status_to_dict(run_status(reason="x" * 10_000))["reason"]) == 500


def test_unknown_states_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown run state 'runing'; expected one of starting"):
        run_status(state="runing")
    with pytest.raises(ValueError, match="unknown worker state 'dead'"):
        worker(0, "dead")


def test_missing_status_is_one_usage_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        read_status(tmp_path)
    assert (
        str(info.value) == f"{tmp_path}/status.json: no status yet; is a run using this --logdir?"
    )
    assert info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ('{"schema": 1, "run_id": ', "(not JSON: Expecting value: line 1 column 25 (char 24))"),
        ("[1, 2]", "(a JSON list, not an object)"),
        ('{"run_id": "x"}', "(schema None, expected 1)"),
        ('{"schema": 1, "run_id": "x"}', "(no key 'state')"),
    ],
)
def test_a_corrupt_status_is_one_usage_line(tmp_path: Path, content: str, detail: str) -> None:
    (tmp_path / "status.json").write_text(content)
    with pytest.raises(UsageError) as info:
        read_status(tmp_path)
    assert str(info.value) == f"{tmp_path}/status.json: not a holdemd status file {detail}"


def test_bad_values_inside_a_status_are_one_usage_line(tmp_path: Path) -> None:
    data = status_to_dict(run_status())
    data["workers"][1]["state"] = "zombie"
    (tmp_path / "status.json").write_text(json.dumps(data))
    with pytest.raises(
        UsageError, match=r"status.json: not a holdemd status file \(unknown worker"
    ):
        read_status(tmp_path)
    data["workers"] = [7]
    (tmp_path / "status.json").write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"expected an object for WorkerStatus, got int\)$"):
        read_status(tmp_path)


def test_a_newer_schema_asks_for_an_upgrade(tmp_path: Path) -> None:
    data = status_to_dict(run_status())
    data["schema"] = STATUS_SCHEMA_VERSION + 1
    (tmp_path / "status.json").write_text(json.dumps(data))
    with pytest.raises(UsageError) as info:
        read_status(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}/status.json: status schema 2 is newer than this holdemd reads (1); "
        "upgrade holdemd"
    )


def test_status_line_with_target_and_budget() -> None:
    assert status_line(run_status()) == (
        "running  it 1,234,567/10,000,000  41,230 it/s  elapsed 5m02s/30m  eta 3m31s  workers 2/2"
    )


def test_status_line_without_target() -> None:
    assert status_line(run_status(iterations_target=None, time_budget_s=5400.0, eta_s=5098.0)) == (
        "running  it 1,234,567  41,230 it/s  elapsed 5m02s/1h30m  eta 1h24m58s  workers 2/2"
    )


def test_status_line_without_any_budget() -> None:
    status = run_status(iterations_target=None, time_budget_s=None, eta_s=None, elapsed_s=7200.0)
    assert (
        status_line(status) == "running  it 1,234,567  41,230 it/s  elapsed 2h00m00s  workers 2/2"
    )


def test_status_line_degraded_with_reason() -> None:
    status = run_status(
        state="degraded",
        reason="worker 1 failed 5 times in 10m:\nMemoryError",
        time_budget_s=8 * 3600.0,
        workers=[worker(0), worker(1, "failed", pid=None, restarts=5)],
    )
    assert status_line(status) == (
        "degraded  it 1,234,567/10,000,000  41,230 it/s  elapsed 5m02s/8h  eta 3m31s  "
        "workers 1/2  (worker 1 failed 5 times in 10m: MemoryError)"
    )


def test_status_line_says_when_table_memory_runs_out() -> None:
    warning = "table memory grows 1.2 GiB/h; available memory runs out in about 3 h 10 min"
    status = run_status(table_memory={"kind": "lazy", "warning": warning})
    assert status_line(status).endswith(f"workers 2/2  ({warning})")
    degraded = replace(status, state="degraded", reason="snapshots failing")
    assert status_line(degraded).endswith(f"workers 2/2  (snapshots failing; {warning})")
    assert status_line(run_status(table_memory={"kind": "dense", "warning": None})).endswith(
        "workers 2/2"
    )


def test_status_line_counts_compiling_and_paused_workers_as_up() -> None:
    status = run_status(
        state="starting",
        iterations=0,
        iterations_per_s=0.0,
        elapsed_s=0.0,
        eta_s=None,
        workers=[worker(0, "compiling"), worker(1, "starting"), worker(2, "hung")],
    )
    assert status_line(status) == ("starting  it 0/10,000,000  0 it/s  elapsed 0s/30m  workers 1/3")
    assert "workers 2/2" in status_line(
        run_status(state="paused", workers=[worker(0, "paused"), worker(1, "paused")])
    )


def test_status_line_of_a_status_read_back(tmp_path: Path) -> None:
    write_status(tmp_path, run_status(iterations_per_s=math.nan))
    status = status_from_dict(read_status(tmp_path))
    assert "  - it/s  " in status_line(status)


def test_utc_now_iso_is_utc() -> None:
    assert utc_now_iso().endswith("+00:00")


def test_importing_status_stays_light() -> None:
    code = (
        "import sys, holdemd.rundir.status; "
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('tensorboard', 'numpy')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "[]"
