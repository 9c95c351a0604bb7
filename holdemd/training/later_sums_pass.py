"""One current-strategy snapshot of the later streets for lazy tables: the next sums file.

With ``average: first_round`` every ``average_interval`` adds the current strategy of each
later-street row to its sums. Lazy tables keep those sums in a file laid out like the regret
arena (``solver.later_sums``), so a snapshot is a pass that streams the previous file and the
regrets, adds, and writes the next file (``rundir.later_sums``):

1. index: mark where each block of the regret arena starts (`kernels.later_sums.mark_blocks`),
   for the ``limit`` entries allocated when the pass began, `NODES_PER_SLICE` nodes a slice;
2. stream: `CHUNK_ENTRIES` entries a slice, whole blocks: read the previous file's values,
   add the current strategy, hand the chunk to the writer;
3. publish: the writer fsyncs the file and renames it; the tables' sums then point at it.

Like every whole-table pass it runs in slices between merges (``training.sweeps``), not in a
thread on a view of the tables: a slice reads the regrets with no merge half done, as the
in-memory pass did, and a small game's pass is done in one step, as the dense pass is, which
keeps lazy runs bit-identical to dense ones. Only the disk goes to a thread (the writer):
writing gigabytes, and fsyncing them, must not hold up merges. Blocks allocated after the pass
began lie past the new file: their sums are the uniform strategy's (``fresh``), what a dense
row whose regrets were zero when the pass went by gets. A failed write (a full disk) loses
that one snapshot, never the previous file, and says so in the log.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

import numpy as np

from holdemd.durations import format_bytes
from holdemd.rundir.later_sums import CURRENT_FILE, SumsReader, SumsWriter
from holdemd.solver.kernels.later_sums import add_current_chunk, chunk_end, mark_blocks
from holdemd.solver.later_sums import LaterSums
from holdemd.solver.lazy_tables import REGRET, LazyTables, NodeBlocks
from holdemd.training.sweeps import Progress

log = logging.getLogger("holdemd.schedule")

CHUNK_ENTRIES = 1 << 21  # entries a slice streams: 8 MiB of float32 read, 8 written
NODES_PER_SLICE = 1 << 20  # decision nodes a slice of the index looks at


class LaterSumsPass:
    """The pass that writes the next later-street sums file (see the module doc)."""

    def __init__(
        self,
        tables: LazyTables,
        blocks: NodeBlocks,
        directory: Path,
        number: int,
        *,
        chunk_entries: int | None = None,
        nodes_per_slice: int | None = None,
    ) -> None:
        self.tables = tables
        self.blocks = blocks
        self.directory = directory
        self.number = number  # the run's count of averaging snapshots, for the log
        self.chunk_entries = chunk_entries or CHUNK_ENTRIES
        self.nodes_per_slice = nodes_per_slice or NODES_PER_SLICE
        self.state: Literal["new", "index", "stream", "publish", "done"] = "new"
        self.started = 0.0
        self.busy = 0.0  # seconds the slices held the event loop
        self.longest = 0.0  # the longest advance
        self._reader: SumsReader | None = None
        self._writer: SumsWriter | None = None

    def advance(self, wait: bool) -> Progress:
        began = time.perf_counter()
        try:
            while True:
                progress = self._slice(wait)
                if progress != "more" or not self.small:
                    break
        except (OSError, ValueError) as exc:  # ValueError: a previous file that is not one
            self._failed(exc)
            progress = "done"
        spent = time.perf_counter() - began
        self.busy += spent
        self.longest = max(self.longest, spent)
        if progress == "done":
            self._release()
        return progress

    def close(self) -> None:
        if self._writer is not None:
            self._writer.abort()
        self._release()

    @property
    def small(self) -> bool:
        """A pass done in one step and written at once (small games), as a dense pass is."""
        return self.state != "new" and self._small

    def _slice(self, wait: bool) -> Progress:
        if self.state == "new":
            self._start()
        elif self.state == "index":
            self._index_slice()
        elif self.state == "stream":
            return self._stream_slice(wait)
        elif self.state == "publish":
            return self._publish(wait)
        return "more"

    def _start(self) -> None:
        tables, blocks = self.tables, self.blocks
        assert tables.later is not None
        self.started = time.perf_counter()
        self.before = tables.later
        self.dtype = np.dtype(self.before.dtype)
        self.limit = int(tables.used[REGRET])
        # At most the smallest block (the mark's cells), without a block-size array of the
        # game's millions of nodes.
        self.q = 1
        if blocks.decision_nodes.size:
            self.q = max(int(blocks.num_buckets.min()) * int(blocks.num_actions.min()), 1)
        self.mark = np.full(self.limit // self.q + 1, -1, dtype=np.int32)
        self.next_node = 0
        self.position = 0
        self._small = (
            self.limit <= self.chunk_entries and blocks.decision_nodes.size <= self.nodes_per_slice
        )
        if self.before.path is not None:
            self._reader = SumsReader(self.before.path, self.dtype)
        self._writer = SumsWriter(self.directory, self.dtype, self.limit, threaded=not self._small)
        self.state = "index"

    def _index_slice(self) -> None:
        nodes = self.blocks.decision_nodes
        lo, hi = self.next_node, min(self.next_node + self.nodes_per_slice, nodes.size)
        mark_blocks(self.tables.regret_at, nodes, lo, hi, self.limit, self.q, self.mark)
        self.next_node = hi
        if hi >= nodes.size:
            self.state = "stream"

    def _stream_slice(self, wait: bool) -> Progress:
        writer = self._writer
        assert writer is not None
        if writer.error is not None:
            raise writer.error
        if self.position >= self.limit:
            writer.close()
            self.state = "publish"
            return "more"
        if not writer.room and not wait:
            return "waiting"
        start = self.position
        end = int(
            chunk_end(
                self.mark,
                self.q,
                self.blocks.num_actions,
                self.blocks.num_buckets,
                start,
                self.limit,
                self.chunk_entries,
            )
        )
        if end < 0:
            raise RuntimeError(f"the regret arena has no block starting at entry {start:,}")
        old_end = min(end, self.before.entries)
        if start < old_end:
            assert self._reader is not None
            # Read ahead two chunks: the previous file is on disk, maybe not in the page cache.
            old = self._reader.read(start, old_end, ahead=2 * self.chunk_entries)
        else:
            old = np.zeros(0, dtype=self.dtype)
        out = np.empty(end - start, dtype=self.dtype)
        tables = self.tables
        add_current_chunk(
            tables.regret,
            tables.strategy_sum,
            tables.strategy_at,
            self.blocks.kernel_arrays(),
            self.blocks.street,
            self.mark,
            self.q,
            start,
            end,
            old,
            self.before.entries,
            self.before.pending_factors(),
            self.before.fresh,
            out,
        )
        writer.write(out)
        self.position = end
        return "more"

    def _publish(self, wait: bool) -> Progress:
        writer = self._writer
        assert writer is not None
        if not writer.done(wait):
            return "waiting"
        if writer.error is not None:
            raise writer.error
        before = self.before
        legal = np.arange(before.fresh.size)
        uniform = np.where(legal > 0, 1.0 / np.maximum(legal, 1), 0.0).astype(self.dtype)
        self.tables.later = LaterSums(
            dtype=before.dtype,
            path=writer.target,
            entries=self.limit,
            passes=before.passes + 1,
            pending=(),
            fresh=before.fresh + uniform,
            sha256=writer.hash.hexdigest(),
        )
        self.state = "done"
        log.info(
            "later streets' sums of current-strategy snapshot %d: %s (%s, %s entries) in "
            "%.1f s; its slices held merges %.2f s in all, %.0f ms at most",
            self.number,
            writer.target,
            format_bytes(self.tables.later.file_bytes),
            f"{self.limit:,}",
            time.perf_counter() - self.started,
            self.busy,
            1000 * self.longest,
        )
        return "done"

    def _failed(self, exc: OSError | ValueError) -> None:
        target = self.directory / CURRENT_FILE
        log.error(
            "current-strategy snapshot %d for later streets' average is lost: could not write "
            "%s (%s); the average goes on from the previous snapshots",
            self.number,
            target,
            getattr(exc, "strerror", None) or exc,
        )
        if self._writer is not None:
            self._writer.abort()
        self.state = "done"

    def _release(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._writer = None
        self.mark = np.zeros(0, dtype=np.int32)
