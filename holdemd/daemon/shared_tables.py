"""Regret and strategy-sum tables in shared memory: the supervisor writes, workers read.

The supervisor creates the segments and is their only writer (it merges the workers' deltas);
workers attach by name and only read them. On Python < 3.13 a process that *attaches* a segment
registers it with its own resource tracker, which unlinks the segment when that process exits
(CPython issue 38119) - a worker crash would destroy the supervisor's tables - so attaching
unregisters it again. The supervisor's own registration stays: if the supervisor is killed,
its resource tracker still unlinks the segments, so nothing leaks.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory

import numpy as np

from holdemd.protocol import TableHandle
from holdemd.solver.tables import Tables

TABLE_NAMES = ("regret", "strategy_sum")


@dataclass
class SharedTables:
    """Tables backed by shared memory segments, with the handles workers attach by."""

    tables: Tables
    handles: dict[str, TableHandle]
    _segments: list[shared_memory.SharedMemory]
    owner: bool

    @classmethod
    def create(cls, initial: Tables, run_tag: str = "") -> SharedTables:
        """Copy ``initial`` into new segments (supervisor side)."""
        segments: list[shared_memory.SharedMemory] = []
        arrays: dict[str, np.ndarray] = {}
        handles: dict[str, TableHandle] = {}
        try:
            for name in TABLE_NAMES:
                source = getattr(initial, name)
                shm_name = f"holdemd-{run_tag}-{name}-{secrets.token_hex(4)}"
                segment = shared_memory.SharedMemory(
                    name=shm_name, create=True, size=max(int(source.nbytes), 1)
                )
                segments.append(segment)
                array = np.ndarray(source.shape, dtype=source.dtype, buffer=segment.buf)
                array[...] = source
                arrays[name] = array
                handles[name] = TableHandle(
                    shm_name=shm_name, dtype=source.dtype.str, shape=tuple(source.shape)
                )
        except BaseException:
            for segment in segments:
                segment.close()
                segment.unlink()
            raise
        tables = Tables(regret=arrays["regret"], strategy_sum=arrays["strategy_sum"])
        return cls(tables=tables, handles=handles, _segments=segments, owner=True)

    @classmethod
    def attach(cls, handles: dict[str, TableHandle]) -> SharedTables:
        """Map the supervisor's segments (worker side)."""
        segments: list[shared_memory.SharedMemory] = []
        arrays: dict[str, np.ndarray] = {}
        for name in TABLE_NAMES:
            handle = handles[name]
            segment = shared_memory.SharedMemory(name=handle.shm_name, create=False)
            # See the module docstring: this process must never unlink the segment.
            resource_tracker.unregister(segment._name, "shared_memory")  # type: ignore[attr-defined]
            segments.append(segment)
            arrays[name] = np.ndarray(
                tuple(handle.shape), dtype=np.dtype(handle.dtype), buffer=segment.buf
            )
        tables = Tables(regret=arrays["regret"], strategy_sum=arrays["strategy_sum"])
        return cls(tables=tables, handles=dict(handles), _segments=segments, owner=False)

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
