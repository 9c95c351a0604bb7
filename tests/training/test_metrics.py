"""Tests of holdemd.training.metrics, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import errno
import logging
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.summary.writer.record_writer import RecordWriter

from holdemd.errors import HoldemdError
from holdemd.training import metrics
from holdemd.training.metrics import (
    NullWriter,
    TensorBoardWriter,
    open_metrics,
    worker_iterations_per_s_tag,
)

LOGGER = "holdemd.metrics"
REPO = Path(__file__).resolve().parents[2]


def read_scalars(logdir: Path) -> dict[str, list[tuple[int, float, float]]]:
    """Every scalar in ``logdir`` as {tag: [(step, value, wall_time), ...]}, as TensorBoard sees it."""
    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {
        tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)]
        for tag in acc.Tags()["scalars"]
    }


def steps_values(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    return {
        tag: [(step, value) for step, value, _ in points]
        for tag, points in read_scalars(logdir).items()
    }


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING
    ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def disk_full(self: Any, event: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_scalars_read_back_with_tensorboard(tmp_path: Path) -> None:
    logdir = tmp_path / "run" / "tensorboard"  # parents are created too
    writer = TensorBoardWriter(logdir)
    writer.scalar(metrics.TRAIN_ITERATIONS, 1000, step=1000, wall_time=1_700_000_000.5)
    writer.scalar(metrics.TRAIN_ITERATIONS, 2000, step=2000)
    writer.scalars(
        {
            metrics.TRAIN_ITERATIONS_PER_S: 41230.0,
            worker_iterations_per_s_tag(0): 20000.0,
            worker_iterations_per_s_tag(1): 21230.0,
            metrics.WORKERS_ALIVE: 2,
        },
        step=2000,
    )
    writer.scalar(metrics.QUALITY_EXPLOITABILITY, 0.125, step=2000)
    writer.close()

    points = read_scalars(logdir)
    assert {tag: [(s, v) for s, v, _ in p] for tag, p in points.items()} == {
        "train/iterations": [(1000, 1000.0), (2000, 2000.0)],
        "train/iterations_per_s": [(2000, 41230.0)],
        "train/iterations_per_s/worker_0": [(2000, 20000.0)],
        "train/iterations_per_s/worker_1": [(2000, 21230.0)],
        "workers/alive": [(2000, 2.0)],
        "quality/exploitability": [(2000, 0.125)],
    }
    assert points["train/iterations"][0][2] == pytest.approx(1_700_000_000.5)
    assert points["train/iterations"][1][2] == pytest.approx(time.time(), abs=60)
    assert writer.failures == 0


def test_values_are_float32_but_steps_stay_exact(tmp_path: Path) -> None:
    writer = TensorBoardWriter(tmp_path)
    writer.scalar(metrics.TRAIN_ITERATIONS, 10_000_000_017, step=10_000_000_017)
    writer.close()
    [(step, value)] = steps_values(tmp_path)["train/iterations"]
    assert step == 10_000_000_017
    assert value == pytest.approx(10_000_000_017, rel=1e-7)


def test_non_finite_values_are_skipped_with_a_debug_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    writer = TensorBoardWriter(tmp_path)
    writer.scalar("train/a", math.nan, step=1)
    writer.scalar("train/a", 1.5, step=2)
    writer.scalar("train/a", math.inf, step=3)
    writer.scalar("train/a", -1e39, step=4)  # finite, but inf as float32
    writer.scalars({"train/b": math.nan, "train/c": 3.0}, step=5)
    writer.scalars({"train/d": -math.inf}, step=6)  # nothing left: no event at all
    writer.close()

    assert steps_values(tmp_path) == {"train/a": [(2, 1.5)], "train/c": [(5, 3.0)]}
    skipped = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert skipped == [
        "TensorBoard: skipping train/a=nan at step 1 (not a finite float32)",
        "TensorBoard: skipping train/a=inf at step 3 (not a finite float32)",
        "TensorBoard: skipping train/a=-1e+39 at step 4 (not a finite float32)",
        "TensorBoard: skipping train/b=nan at step 5 (not a finite float32)",
        "TensorBoard: skipping train/d=-inf at step 6 (not a finite float32)",
    ]
    assert warnings_from(caplog) == []


def test_null_writer_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    writer = open_metrics(None)
    assert isinstance(writer, NullWriter)
    writer.scalar(metrics.TRAIN_ITERATIONS, 1.0, step=1)
    writer.scalars({metrics.WORKERS_ALIVE: 2.0}, step=1)
    writer.flush()
    writer.close()
    writer.close()
    assert list(tmp_path.iterdir()) == []


def test_open_metrics_creates_the_logdir(tmp_path: Path) -> None:
    writer = open_metrics(tmp_path / "run" / "tensorboard")
    assert isinstance(writer, TensorBoardWriter)
    writer.close()
    [events] = (tmp_path / "run" / "tensorboard").iterdir()
    assert events.name.startswith("events.out.tfevents.")


def test_an_unwritable_logdir_is_one_line_at_startup(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(HoldemdError) as info:
        TensorBoardWriter(blocker / "tensorboard")
    message = str(info.value)
    assert message.startswith(f"{blocker / 'tensorboard'}: cannot write TensorBoard events: ")
    assert message.endswith("; fix the directory or pass --no-tensorboard")
    assert "\n" not in message


def test_a_failing_writer_logs_once_and_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    writer = TensorBoardWriter(tmp_path, retry_secs=60, clock=clock)
    writer.scalar("train/a", 1.0, step=1)
    monkeypatch.setattr(EventFileWriter, "add_event", disk_full)

    for step in range(2, 12):  # no exception escapes, whatever the retry clock says
        writer.scalar("train/a", float(step), step=step)
        clock.now += 30
    writer.flush()

    assert warnings_from(caplog) == [
        f"TensorBoard: cannot write to {tmp_path} ([Errno 28] No space left on device); "
        "training continues, metrics are dropped; retrying every 60s"
    ]
    # The first write failed, then every write that came after a 60 s retry delay.
    assert writer.failures == 5
    writer.close()
    writer.close()
    assert warnings_from(caplog)[1:] == [
        f"TensorBoard: 5 write(s) to {tmp_path} failed during this run; those scalars are missing"
    ]
    assert steps_values(tmp_path) == {"train/a": [(1, 1.0)]}


def test_writing_resumes_in_a_new_events_file_after_an_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = FakeClock()
    writer = TensorBoardWriter(tmp_path, retry_secs=60, clock=clock)
    writer.scalar("train/a", 1.0, step=1)
    with monkeypatch.context() as patch:
        patch.setattr(EventFileWriter, "add_event", disk_full)
        writer.scalar("train/a", 2.0, step=2)
    writer.scalar("train/a", 3.0, step=3)  # within the retry delay: dropped, not retried
    clock.now += 60
    writer.scalar("train/a", 4.0, step=4)
    writer.close()

    assert writer.failures == 1
    assert f"TensorBoard: writing to {tmp_path} again after 1 failure(s)" in caplog.messages
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
    # Sorted: both files were opened in the same second, and TensorBoard then orders them by a
    # per-process counter compared as text ("10" < "9"); 60 s apart in real runs, they do not.
    assert {tag: sorted(p) for tag, p in steps_values(tmp_path).items()} == {
        "train/a": [(1, 1.0), (4, 4.0)]
    }


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_failure_in_the_writer_thread_is_caught_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    writer = TensorBoardWriter(tmp_path, clock=FakeClock())
    writer.scalar("train/a", 1.0, step=1)
    writer.flush()
    monkeypatch.setattr(RecordWriter, "write", disk_full)
    writer.scalar("train/a", 2.0, step=2)
    assert writer.failures == 0  # the thread has not necessarily written it yet
    writer.flush()  # waits for the thread, which has failed by then
    assert writer.failures == 1
    writer.scalar("train/a", 3.0, step=3)  # within the retry delay: dropped quietly
    writer.close()
    assert writer.failures == 1
    assert warnings_from(caplog) == [
        f"TensorBoard: cannot write to {tmp_path} ([Errno 28] No space left on device); "
        "training continues, metrics are dropped; retrying every 60s",
        f"TensorBoard: 1 write(s) to {tmp_path} failed during this run; those scalars are missing",
    ]
    assert steps_values(tmp_path) == {"train/a": [(1, 1.0)]}


def test_no_new_events_file_while_the_directory_is_still_unwritable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    logdir = tmp_path / "tensorboard"
    writer = TensorBoardWriter(logdir, clock=clock)
    with monkeypatch.context() as patch:
        patch.setattr(EventFileWriter, "add_event", disk_full)
        writer.scalar("train/a", 1.0, step=1)
    for events in logdir.iterdir():
        events.unlink()
    logdir.rmdir()
    logdir.write_text("in the way")  # the probe before reopening fails on this
    clock.now += 60
    writer.scalar("train/a", 2.0, step=2)
    assert writer.failures == 2
    logdir.unlink()  # the probe recreates the directory
    clock.now += 60
    writer.scalar("train/a", 3.0, step=3)
    writer.close()
    assert writer.failures == 2
    assert steps_values(logdir) == {"train/a": [(3, 3.0)]}
    assert [p.name for p in logdir.iterdir() if not p.name.startswith("events.")] == []


def test_close_is_idempotent_and_later_writes_are_dropped(tmp_path: Path) -> None:
    writer = TensorBoardWriter(tmp_path)
    writer.scalar("train/a", 1.0, step=1)
    writer.close()
    writer.close()
    writer.scalar("train/a", 2.0, step=2)
    writer.flush()
    assert steps_values(tmp_path) == {"train/a": [(1, 1.0)]}
    assert writer.failures == 0


def test_tags_are_distinct_and_grouped() -> None:
    assert len(set(metrics.TAGS)) == len(metrics.TAGS)
    assert {tag.split("/")[0] for tag in metrics.TAGS} == {
        "train",
        "workers",
        "quality",
        "schedule",
        "litmus",
        "tables",
    }
    assert worker_iterations_per_s_tag(3) == "train/iterations_per_s/worker_3"


def test_importing_metrics_does_not_import_tensorboard() -> None:
    code = (
        "import sys, holdemd.training.metrics as m; m.open_metrics(None); "
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('tensorboard', 'numpy')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "[]"
