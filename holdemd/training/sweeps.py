"""Whole-table passes (a discount, an averaging snapshot) done a slice at a time between merges.

On a 6-max table of several gigabytes, multiplying both tables at once blocks the event loop
for seconds: no merge, no heartbeat answered, no status. So the supervisor queues each pass and
advances it for a few milliseconds after every merge and every tick. Passes run in order, each
to its end before the next starts. Until one ends, a merge may land on rows it already did or
on rows it has yet to do; at Pluribus's ten-minute intervals that is one batch in thousands.
A snapshot finishes every pending pass first, so a resumed run never sees half of one, and
holds them while it writes lazy tables (which it writes from the live tables, not a copy).

A pass covers ``size`` units from 0: rows of dense tables, by default; lazy tables' passes
cover arena entries (``training.schedule_runner``). A pass with more to do than a range of
units (the later streets' sums, which stream a file: ``training.later_sums_pass``) is a
`SweepPass` of its own: it does one slice per `advance`, and may ask to wait for its I/O.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from holdemd.solver.tables import ROWS_PER_CHUNK

RowPass = Callable[[int, int], None]  # applies the pass to rows [lo, hi)
# What a slice did: the pass is "done", has "more" to do, or is "waiting" (for its I/O: the
# sweeps come back to it at the next step).
Progress = Literal["done", "more", "waiting"]


class SweepPass(Protocol):
    def advance(self, wait: bool) -> Progress:
        """Do one slice; ``wait``: block on I/O rather than answer "waiting" (finish)."""
        ...

    def close(self) -> None:
        """Abandon the pass (the run ends without finishing it)."""
        ...


@dataclass
class _RowsPass:
    apply: RowPass
    size: int
    rows_per_chunk: int
    next_row: int = 0

    def advance(self, wait: bool) -> Progress:
        lo = self.next_row
        hi = min(lo + self.rows_per_chunk, self.size)
        if hi > lo:
            self.apply(lo, hi)
        self.next_row = hi
        return "done" if hi >= self.size else "more"

    def close(self) -> None:
        pass


class TableSweeps:
    def __init__(self, num_rows: int, rows_per_chunk: int = ROWS_PER_CHUNK) -> None:
        self.num_rows = num_rows
        self.rows_per_chunk = rows_per_chunk
        self._pending: deque[SweepPass] = deque()
        self.held = False  # a snapshot is reading the tables: no pass may write them

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def add(self, apply: RowPass, size: int | None = None) -> None:
        size = self.num_rows if size is None else size
        self._pending.append(_RowsPass(apply, size, self.rows_per_chunk))

    def add_pass(self, sweep: SweepPass) -> None:
        self._pending.append(sweep)

    def step(self, budget_seconds: float, wait: bool = False) -> None:
        """Advance the pending passes for about ``budget_seconds`` (at least one slice)."""
        deadline = time.perf_counter() + budget_seconds
        while self._pending and not self.held:
            progress = self._pending[0].advance(wait)
            if progress == "done":
                self._pending.popleft()
            elif progress == "waiting":
                return
            if time.perf_counter() >= deadline:
                return

    def finish(self) -> None:
        """Complete every pending pass now."""
        self.step(float("inf"), wait=True)

    def close(self) -> None:
        """Abandon the pending passes (the run is ending)."""
        while self._pending:
            self._pending.popleft().close()
