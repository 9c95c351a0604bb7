"""Training metrics as TensorBoard scalars, written without TensorFlow.

The supervisor logs through a :class:`MetricsWriter`: :class:`TensorBoardWriter` appends
``Event`` protos to an events file under ``RUN/tensorboard/`` with TensorBoard's own
``EventFileWriter`` (a background thread does the file I/O), and :class:`NullWriter` stands in
for ``--no-tensorboard``. Use :func:`open_metrics` to get one.

Metrics are a side channel, so they never stop training: non-finite values are skipped, and a
write error (a full disk, a removed directory) is logged once on ``holdemd.metrics``, counted,
and retried by reopening a new events file every ``retry_secs`` (TensorBoard reads every events
file in the directory, so a reopened run shows a gap, not a split).

Values are stored as TensorBoard's legacy ``simple_value`` (float32), which every TensorBoard
version shows and ``EventAccumulator.Scalars`` reads; counts above 2**24 (~16.7M) are therefore
approximate in the value, while the step (int64) stays exact.

The tags the supervisor writes are the constants below; keep this list and the README in step.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from holdemd.errors import HoldemdError

log = logging.getLogger("holdemd.metrics")

# --- Tags ---------------------------------------------------------------------------------------
# TensorBoard groups charts by the part before the first '/'.

TRAIN_ITERATIONS = "train/iterations"  # iterations merged into the global tables since the start
TRAIN_ITERATIONS_PER_S = "train/iterations_per_s"  # merged iterations/s, all workers, last interval
TRAIN_INFOSET_ROWS_TOUCHED = "train/infoset_rows_touched"  # rows updated so far; dense tables only
TRAIN_DELTA_BYTES_PER_S = "train/delta_bytes_per_s"  # delta payload bytes/s received from workers
TRAIN_MERGE_LATENCY_MS = (
    "train/merge_latency_ms"  # mean ms to validate and add one delta, last interval
)
WORKERS_ALIVE = "workers/alive"  # workers currently sending heartbeats
WORKERS_RESTARTS = "workers/restarts"  # worker restarts since the run started (cumulative)
QUALITY_EXPLOITABILITY = "quality/exploitability"  # average strategy, chips/game; small games only
SCHEDULE_DISCOUNTS = "schedule/discounts_applied"  # linear-CFR discounts so far (cumulative)
SCHEDULE_PRUNED_FRACTION = "schedule/pruned_fraction"  # prunable actions skipped, last interval
SCHEDULE_FLOOR_FRACTION = "schedule/regret_floor_fraction"  # regret entries at the floor now
SCHEDULE_AVERAGE_SNAPSHOTS = "schedule/average_snapshots"  # current-strategy snapshots averaged
LITMUS_PASSED = "litmus/passed"  # litmus scenarios that pass, at each snapshot
LITMUS_FAILED = "litmus/failed"  # litmus scenarios that fail, at each snapshot
LITMUS_SKIPPED = "litmus/skipped"  # not judged: other games, off the tree, rows not trained yet
# The tables' memory (training.table_memory); dense tables: fixed, every block allocated.
TABLES_BYTES = "tables/bytes"  # bytes of the tables, per-node offsets included
TABLES_BYTES_PER_ENTRY = "tables/bytes_per_entry"  # tables/bytes per (row, legal action) entry
TABLES_REGRET_BLOCKS = "tables/regret_blocks"  # decision nodes with a regret block
TABLES_STRATEGY_BLOCKS = "tables/strategy_blocks"  # decision nodes with a strategy-sum block
TABLES_ROWS_ALLOCATED = "tables/rows_allocated"  # infoset rows with a regret block
TABLES_GROWTH_BYTES_PER_H = "tables/growth_bytes_per_h"  # over the last hour, once measured
TABLES_AVAILABLE_BYTES = "tables/available_bytes"  # memory (or /dev/shm) left to grow into
TABLES_HOURS_LEFT = "tables/hours_until_memory_runs_out"  # at that growth; only while growing
TABLES_LATER_SUMS_BYTES = "tables/later_sums_bytes"  # lazy: later streets' sums file, on disk

_WORKER_ITERATIONS_PER_S = TRAIN_ITERATIONS_PER_S + "/worker_{slot}"

# The fixed tags above; per-worker tags come from worker_iterations_per_s_tag().
TAGS: tuple[str, ...] = (
    TRAIN_ITERATIONS,
    TRAIN_ITERATIONS_PER_S,
    TRAIN_INFOSET_ROWS_TOUCHED,
    TRAIN_DELTA_BYTES_PER_S,
    TRAIN_MERGE_LATENCY_MS,
    WORKERS_ALIVE,
    WORKERS_RESTARTS,
    QUALITY_EXPLOITABILITY,
    SCHEDULE_DISCOUNTS,
    SCHEDULE_PRUNED_FRACTION,
    SCHEDULE_FLOOR_FRACTION,
    SCHEDULE_AVERAGE_SNAPSHOTS,
    LITMUS_PASSED,
    LITMUS_FAILED,
    LITMUS_SKIPPED,
    TABLES_BYTES,
    TABLES_BYTES_PER_ENTRY,
    TABLES_REGRET_BLOCKS,
    TABLES_STRATEGY_BLOCKS,
    TABLES_ROWS_ALLOCATED,
    TABLES_GROWTH_BYTES_PER_H,
    TABLES_AVAILABLE_BYTES,
    TABLES_HOURS_LEFT,
    TABLES_LATER_SUMS_BYTES,
)


def worker_iterations_per_s_tag(slot: int) -> str:
    """``train/iterations_per_s/worker_<slot>``: iterations/s of one worker slot, last interval.

    Keyed by slot, not pid, so a restarted worker continues the same chart.
    """
    return _WORKER_ITERATIONS_PER_S.format(slot=slot)


# --- Writers ------------------------------------------------------------------------------------

_FLOAT32_MAX = 3.4028234663852886e38  # simple_value is float32: larger values would become inf
_QUEUE_EVENTS = 1024  # EventFileWriter blocks the caller (the event loop) when its queue is full


class MetricsWriter(Protocol):
    """Where the supervisor sends scalars."""

    def scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Record ``value`` for ``tag`` at ``step`` (an iteration count)."""

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Record several tags at the same step and wall time."""

    def flush(self) -> None:
        """Write everything recorded so far to disk."""

    def close(self) -> None:
        """Flush and release the file; calling it again does nothing."""


class NullWriter:
    """The writer for ``--no-tensorboard``: accepts everything, writes nothing."""

    def scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Do nothing."""

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Do nothing."""

    def flush(self) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


class TensorBoardWriter:
    """Scalars appended to an events file in ``logdir`` (created if missing).

    Not thread-safe: meant to be called from the supervisor's event loop only. ``scalar`` only
    queues the event; ``flush`` waits for the disk, so call it rarely (the background thread
    already flushes every ``flush_secs``).
    """

    def __init__(
        self,
        logdir: Path,
        *,
        flush_secs: float = 10.0,
        retry_secs: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Open a new events file; raises HoldemdError if ``logdir`` cannot be written.

        Failing here, before training starts, is deliberate: a logdir that is not writable at
        all is a setup mistake the user should see, unlike a disk that fills up later.
        """
        # Imported here so that `--no-tensorboard` and plain status readers never pay for it.
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._event_pb2: Any = event_pb2
        self._summary_pb2: Any = summary_pb2
        self._writer_class: Any = EventFileWriter
        self._logdir = logdir
        self._flush_secs = flush_secs
        self._retry_secs = retry_secs
        self._clock = clock
        self._retry_at = 0.0
        self._failures = 0
        self._in_outage = False
        self._closed = False
        try:
            logdir.mkdir(parents=True, exist_ok=True)
            self._writer: _EventsFile | None = self._open_events_file()
        except OSError as exc:
            raise HoldemdError(
                f"{logdir}: cannot write TensorBoard events: {exc.strerror or exc}; "
                f"fix the directory or pass --no-tensorboard"
            ) from exc

    @property
    def logdir(self) -> Path:
        """The directory holding the events files."""
        return self._logdir

    @property
    def failures(self) -> int:
        """Writes, flushes and reopens that failed so far (their scalars are lost)."""
        return self._failures

    def scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Record ``value`` for ``tag`` at ``step``; NaN and inf are skipped."""
        self._write({tag: value}, step, wall_time)

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Record several tags at ``step`` as one event; NaN and inf are skipped."""
        self._write(values, step, None)

    def flush(self) -> None:
        """Wait until every queued event is in the file; a failure is logged, not raised."""
        if self._closed or self._writer is None:
            return
        try:
            self._writer.flush()
        except Exception as exc:  # the writer thread re-raises whatever the disk raised
            self._on_failure(exc)

    def close(self) -> None:
        """Flush and close the events file; idempotent, and never raises."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            except Exception as exc:
                self._on_failure(exc)
        if self._failures:
            log.warning(
                "TensorBoard: %d write(s) to %s failed during this run; those scalars are missing",
                self._failures,
                self._logdir,
            )

    def _write(self, values: Mapping[str, float], step: int, wall_time: float | None) -> None:
        if self._closed:
            log.debug("TensorBoard writer is closed; dropping %s at step %d", list(values), step)
            return
        finite = _finite_values(values, step)
        if not finite:
            return
        writer = self._writer if self._writer is not None else self._reopen()
        if writer is None:
            return  # still in an outage; the failure was logged when it began
        try:
            writer.add_event(self._event(finite, step, wall_time))
        except Exception as exc:  # a full disk must not stop training
            self._on_failure(exc)

    def _event(self, values: Mapping[str, float], step: int, wall_time: float | None) -> Any:
        summary = self._summary_pb2.Summary(
            value=[
                self._summary_pb2.Summary.Value(tag=tag, simple_value=value)
                for tag, value in values.items()
            ]
        )
        return self._event_pb2.Event(
            wall_time=time.time() if wall_time is None else wall_time, step=step, summary=summary
        )

    def _open_events_file(self) -> _EventsFile:
        return _EventsFile(self._writer_class(str(self._logdir), _QUEUE_EVENTS, self._flush_secs))

    def _reopen(self) -> _EventsFile | None:
        """A fresh events file once ``retry_secs`` have passed since the failure, else None.

        EventFileWriter's thread stops at its first error and re-raises it forever, so the only
        way back after a transient failure (a disk that was full) is a new writer. The probe
        comes first because a new writer whose first write fails prints a thread traceback.
        """
        if self._clock() < self._retry_at:
            return None
        try:
            _probe_writable(self._logdir)
            self._writer = self._open_events_file()
        except Exception as exc:
            self._on_failure(exc)
            return None
        log.info(
            "TensorBoard: writing to %s again after %d failure(s)", self._logdir, self._failures
        )
        self._in_outage = False
        return self._writer

    def _on_failure(self, exc: BaseException) -> None:
        """Count the failure, drop the broken writer, and log once per outage."""
        self._failures += 1
        self._retry_at = self._clock() + self._retry_secs
        broken, self._writer = self._writer, None
        if broken is not None:
            _close_quietly(broken)
        if self._in_outage:
            log.debug("TensorBoard write failed again: %s", exc)
            return
        self._in_outage = True
        log.warning(
            "TensorBoard: cannot write to %s (%s); training continues, metrics are dropped; "
            "retrying every %gs",
            self._logdir,
            exc,
            self._retry_secs,
        )


def open_metrics(logdir: Path | None) -> MetricsWriter:
    """A TensorBoardWriter for ``logdir`` (e.g. ``RUN/tensorboard``), or a NullWriter for None."""
    if logdir is None:
        return NullWriter()
    return TensorBoardWriter(logdir)


def _finite_values(values: Mapping[str, float], step: int) -> dict[str, float]:
    """The values TensorBoard can show; NaN, inf and float32 overflow are logged and skipped."""
    finite: dict[str, float] = {}
    for tag, value in values.items():
        number = float(value)
        if math.isfinite(number) and abs(number) <= _FLOAT32_MAX:
            finite[tag] = number
        else:
            log.debug(
                "TensorBoard: skipping %s=%r at step %d (not a finite float32)", tag, number, step
            )
    return finite


class _EventsFile:
    """An EventFileWriter whose writer-thread errors are raised on the caller's next call.

    Left alone, EventFileWriter's thread dies on its first I/O error and Python prints that as a
    traceback on stderr; here the thread records the error, drops every later record (so a
    half-written file is not appended to), and the error reaches TensorBoardWriter like any
    other. It reaches into private attributes; if a TensorBoard release renames them, errors
    still surface, only with that traceback.
    """

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.thread_errors = _trap_thread_errors(writer)

    def add_event(self, event: Any) -> None:
        self.writer.add_event(event)
        self._raise_thread_error()

    def flush(self) -> None:
        self.writer.flush()
        self._raise_thread_error()

    def close(self) -> None:
        self.writer.close()
        self._raise_thread_error()

    def _raise_thread_error(self) -> None:
        if self.thread_errors:
            raise self.thread_errors[0]


def _trap_thread_errors(writer: Any) -> list[Exception]:
    """Make the writer thread's record writer append its first error to the returned list."""
    errors: list[Exception] = []
    record_writer = getattr(getattr(writer, "_async_writer", None), "_writer", None)
    if record_writer is None:
        return errors

    def guarded(method: str) -> Callable[..., None]:
        def call(*args: Any) -> None:
            if errors:
                return
            try:
                # Looked up on the class at call time, so tests can patch RecordWriter.
                getattr(type(record_writer), method)(record_writer, *args)
            except Exception as exc:
                errors.append(exc)

        return call

    record_writer.write = guarded("write")
    record_writer.flush = guarded("flush")
    return errors


def _probe_writable(logdir: Path) -> None:
    """Raise OSError unless a 4 KiB write to ``logdir`` reaches the disk (e.g. still full)."""
    logdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=logdir, prefix=".probe-")
    try:
        os.write(fd, bytes(4096))
        os.fsync(fd)
    finally:
        os.close(fd)
        os.unlink(name)


def _close_quietly(writer: _EventsFile) -> None:
    """Release a writer that already failed; its own close would re-raise the same error."""
    try:
        writer.close()
    except Exception as exc:
        log.debug("TensorBoard: closing a failed events file: %s", exc)
