"""Regret and strategy-sum tables in shared memory: the supervisor writes, workers read.

The supervisor creates the segments and is their only writer (it merges the workers' deltas);
workers attach by name and only read them. On Python < 3.13 a process that *attaches* a segment
registers it with its own resource tracker, which unlinks the segment when that process exits
(CPython issue 38119) - a worker crash would destroy the supervisor's tables - so attaching
unregisters it again. The supervisor's own registration stays: if the supervisor is killed,
its resource tracker still unlinks the segments, so nothing leaks.

Lazy tables (``solver.lazy_tables``) share their arenas the same way. An arena's segment is
created at its full capacity but only its allocated prefix is written: on Linux a POSIX shared
memory segment is a tmpfs file, whose pages take memory only once written, so resident memory
follows the allocated blocks while the workers' mappings never need to grow. Their later
streets' sums (a file on disk, which workers never read) stay the supervisor's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory

import numpy as np

from holdemd.protocol.worker import TableHandle
from holdemd.solver.lazy_tables import STRATEGY, LazyTables
from holdemd.solver.tables import Tables

TABLE_NAMES = ("regret", "strategy_sum")
LAZY_NAMES = ("regret", "strategy_sum", "regret_at", "strategy_at", "used")
SHM_DIR = "/dev/shm"  # where Linux shows POSIX shared memory segments as files


@dataclass
class SharedTables:
    """Tables backed by shared memory segments, with the handles workers attach by."""

    tables: Tables | LazyTables
    handles: dict[str, TableHandle]
    _segments: list[shared_memory.SharedMemory]
    owner: bool

    @classmethod
    def create(
        cls, initial: Tables | LazyTables, run_tag: str = "", capacity: int = 0
    ) -> SharedTables:
        """Copy ``initial`` into new segments (supervisor side); lazy tables' arenas get room
        for ``capacity`` entries (at least what ``initial`` holds)."""
        segments: list[shared_memory.SharedMemory] = []
        arrays: dict[str, np.ndarray] = {}
        handles: dict[str, TableHandle] = {}
        lazy = isinstance(initial, LazyTables)
        try:
            for name in LAZY_NAMES if lazy else TABLE_NAMES:
                source = getattr(initial, name)
                shape = tuple(source.shape)
                if lazy and name in TABLE_NAMES:
                    shape = (max(capacity, source.shape[0]),)
                shm_name = f"holdemd-{run_tag}-{name}-{secrets.token_hex(4)}"
                nbytes = int(np.prod(shape)) * source.dtype.itemsize
                segment = shared_memory.SharedMemory(
                    name=shm_name, create=True, size=max(nbytes, 1)
                )
                segments.append(segment)
                array = np.ndarray(shape, dtype=source.dtype, buffer=segment.buf)
                if isinstance(initial, LazyTables) and name in TABLE_NAMES:
                    # Only the allocated prefix: the rest stays unwritten, holding no memory.
                    used = int(initial.used[TABLE_NAMES.index(name)])
                    array[:used] = source[:used]
                else:
                    array[...] = source
                arrays[name] = array
                handles[name] = TableHandle(shm_name=shm_name, dtype=source.dtype.str, shape=shape)
        except BaseException:
            for segment in segments:
                segment.close()
                segment.unlink()
            raise
        tables = _tables(arrays)
        if isinstance(tables, LazyTables) and isinstance(initial, LazyTables):
            tables.later = initial.later
        return cls(tables=tables, handles=handles, _segments=segments, owner=True)

    @classmethod
    def attach(cls, handles: dict[str, TableHandle]) -> SharedTables:
        """Map the supervisor's segments (worker side)."""
        segments: list[shared_memory.SharedMemory] = []
        arrays: dict[str, np.ndarray] = {}
        for name in LAZY_NAMES if "regret_at" in handles else TABLE_NAMES:
            handle = handles[name]
            segment = shared_memory.SharedMemory(name=handle.shm_name, create=False)
            # See the module docstring: this process must never unlink the segment.
            resource_tracker.unregister(segment._name, "shared_memory")  # type: ignore[attr-defined]
            segments.append(segment)
            arrays[name] = np.ndarray(
                tuple(handle.shape), dtype=np.dtype(handle.dtype), buffer=segment.buf
            )
        return cls(tables=_tables(arrays), handles=dict(handles), _segments=segments, owner=False)

    def close(self) -> None:
        """Unmap; the owner also removes the segments."""
        # Drop the numpy views first: a segment cannot be closed while arrays export its buffer.
        self.tables = Tables(regret=np.zeros((0, 0)), strategy_sum=np.zeros((0, 0)))
        for segment in self._segments:
            # BufferError: a caller still holds a view; the mapping then goes with the process.
            with contextlib.suppress(BufferError):
                segment.close()
            if self.owner:
                with contextlib.suppress(FileNotFoundError):
                    segment.unlink()
        self._segments = []


def _tables(arrays: dict[str, np.ndarray]) -> Tables | LazyTables:
    if "regret_at" in arrays:
        regret, strategy_sum, regret_at, strategy_at, used = (arrays[n] for n in LAZY_NAMES)
        return LazyTables(regret, strategy_sum, regret_at, strategy_at, used)
    return Tables(regret=arrays["regret"], strategy_sum=arrays["strategy_sum"])


assert TABLE_NAMES.index("strategy_sum") == STRATEGY  # ``used`` is indexed like TABLE_NAMES


def remove_orphaned_segments(shm_dir: str = SHM_DIR) -> list[str]:
    """Unlink the segments of supervisors that died without cleaning up; return their names.

    Segments are named ``holdemd-<pid>-...`` by the supervisor that created them. A lone
    SIGKILL leaves the supervisor's resource tracker alive to unlink them, but a kill of the
    whole process group (``kill -9 -PGID``, an OOM kill of the cgroup) takes the tracker too,
    and the tables would hold memory until reboot. Only our own uid's segments of processes
    that no longer exist are removed.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(shm_dir))
    except OSError:
        return removed  # no /dev/shm here (macOS): nothing we can list
    for entry in entries:
        parts = entry.name.split("-")
        if len(parts) < 3 or parts[0] != "holdemd" or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid() or _alive(pid):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
