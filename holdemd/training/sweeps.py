"""Whole-table passes (a discount, an averaging snapshot) done a slice at a time between merges.

On a 6-max table of several gigabytes, multiplying both tables at once blocks the event loop
for seconds: no merge, no heartbeat answered, no status. So the supervisor queues each pass and
advances it for a few milliseconds after every merge and every tick. Passes run in order, each
to its end before the next starts. Until one ends, a merge may land on rows it already did or
on rows it has yet to do; at Pluribus's ten-minute intervals that is one batch in thousands.
A snapshot finishes every pending pass first, so a resumed run never sees half of one, and
holds them while it writes lazy tables (which it writes from the live tables, not a copy).

A pass covers ``size`` units from 0: rows of dense tables, by default; lazy tables' passes
cover arena entries or decision nodes (``training.schedule_runner``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from holdemd.solver.tables import ROWS_PER_CHUNK

RowPass = Callable[[int, int], None]  # applies the pass to rows [lo, hi)


@dataclass
class _Pass:
    apply: RowPass
    size: int
    next_row: int = 0


class TableSweeps:
    def __init__(self, num_rows: int, rows_per_chunk: int = ROWS_PER_CHUNK) -> None:
        self.num_rows = num_rows
        self.rows_per_chunk = rows_per_chunk
        self._pending: deque[_Pass] = deque()
        self.held = False  # a snapshot is reading the tables: no pass may write them

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def add(self, apply: RowPass, size: int | None = None) -> None:
        self._pending.append(_Pass(apply, self.num_rows if size is None else size))

    def step(self, budget_seconds: float) -> None:
        """Advance the pending passes for about ``budget_seconds`` (at least one slice)."""
        deadline = time.perf_counter() + budget_seconds
        while self._pending and not self.held:
            current = self._pending[0]
            lo = current.next_row
            hi = min(lo + self.rows_per_chunk, current.size)
            if hi > lo:
                current.apply(lo, hi)
            current.next_row = hi
            if hi >= current.size:
                self._pending.popleft()
            if time.perf_counter() >= deadline:
                return

    def finish(self) -> None:
        """Complete every pending pass now."""
        self.step(float("inf"))
