"""What the run's tables hold in memory, how fast that grows, and when memory would run out.

Dense tables are allocated whole at the start: their size is fixed. Lazily allocated tables
(``solver.lazy_tables``) grow whenever training first reaches a node: fast in the first
minutes, when every deal reaches new nodes, then slower and slower, as what is left is
rarely reached. So the growth rate is measured over the last hour of samples, leaving out
the first minutes (their burst would predict memory running out when it will not). Measured
over a past window, the rate still runs ahead of the truth (growth only slows down), so a
warning errs on the early side.

`TableMemoryMeter.sample` is pure (a clock reading and the available memory are passed in),
so tests drive it with made-up times; `TableMemoryMeter.read` is what the run calls.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

from holdemd.durations import format_about, format_bytes
from holdemd.games.compiled import Game
from holdemd.games.memory_check import available_memory
from holdemd.solver.lazy_tables import REGRET, LazyTables, NodeBlocks
from holdemd.solver.tables import Tables
from holdemd.training.shared_tables import SHM_DIR

log = logging.getLogger("holdemd.supervisor")

# Counting a lazy table's blocks reads an offset per node of the game (2.1M for 6max_mid): a
# few milliseconds on the event loop, so the run measures at most this often.
SAMPLE_SECONDS = 10.0
WARMUP_SECONDS = 300.0  # samples of the first minutes leave the growth rate out
MIN_SPAN_SECONDS = 300.0  # no growth rate (null) until the samples span this long
WINDOW_SECONDS = 3600.0  # the growth rate is over the samples of the last hour
# Warn when the tables would exhaust memory within this at the current growth: time to
# snapshot and move the run to a bigger machine (or stop it) before the OOM killer does.
WARN_WITHIN_SECONDS = 6 * 3600.0
# A warning given stands until memory would last this much longer than WARN_WITHIN_SECONDS:
# a projection hovering at the threshold must not raise and clear it every few seconds.
CLEAR_FACTOR = 1.25
AVAILABLE_MEMORY = "available memory"

AnyTables = Tables | LazyTables


@dataclass(frozen=True)
class TableMemory:
    """The tables' memory at one sample, as status.json shows it (``table_memory``)."""

    kind: Literal["dense", "lazy"]
    bytes: int  # the tables in memory: allocated entries and per-node offsets
    capacity_bytes: int  # what they would hold with every block allocated (dense: bytes)
    # Allocated (row, legal action) pairs: the regret entries. The measure of compact
    # tables is bytes per such pair, both tables and all metadata included (dense: 8 for
    # float32, more with padding to max_actions); counting both tables' entries would halve it.
    entries: int
    bytes_per_entry: float | None  # bytes / entries, metadata included; None: no entry yet
    regret_blocks: int  # decision nodes with a regret block
    strategy_blocks: int  # decision nodes with a strategy-sum block
    blocks: int  # decision nodes: the blocks of each table with every block allocated
    rows: int  # infoset rows with a regret block (dense: every row)
    total_rows: int
    # Lazy tables with first-round averaging: the later streets' sums file, on disk, not in
    # memory (solver.later_sums), so in none of the figures above; 0: none.
    later_sums_bytes: int
    growth_bytes_per_h: float | None  # None while measuring; dense: 0
    available_bytes: int  # memory the tables can still grow into
    runs_out_in_s: float | None  # at the growth rate; None: never (not growing, or room)
    warning: str | None  # set when runs_out_in_s is near: the health warning's message

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TableMemoryMeter:
    """Samples one run's tables and says how their memory grows (see the module doc)."""

    def __init__(
        self, game: Game, tables: AnyTables, *, warn_within: float = WARN_WITHIN_SECONDS
    ) -> None:
        self.tables = tables
        self.warn_within = warn_within
        blocks = NodeBlocks.of(game)
        self._decision_nodes = blocks.decision_nodes
        self._node_rows = blocks.num_buckets
        self._legal_entries = int(blocks.block_entries.sum())  # of one table
        self._total_rows = game.num_rows
        self._samples: deque[tuple[float, int]] = deque()  # (time, bytes) since the warm-up
        self._first_at: float | None = None
        self._measured_at = 0.0
        self.latest: TableMemory | None = None

    def read(self, now: float, ends_in_s: float | None = None) -> TableMemory:
        """The latest sample, taken again if SAMPLE_SECONDS have passed: what status shows."""
        if self.latest is not None and now - self._measured_at < SAMPLE_SECONDS:
            return self.latest
        available, limit = memory_headroom()
        return self.sample(now, available, limit=limit, ends_in_s=ends_in_s)

    def sample(
        self,
        now: float,
        available_bytes: int,
        *,
        limit: str = AVAILABLE_MEMORY,
        ends_in_s: float | None = None,
    ) -> TableMemory:
        """Measure the tables at ``now`` (monotonic seconds) with ``available_bytes`` left to
        grow into (``limit`` names what limits it, for the warning). ``ends_in_s``: the run
        ends by then (its budget), so memory running out later is no cause for a warning."""
        size = self._measure()
        growth = self._growth(now, size["bytes"]) if size["kind"] == "lazy" else 0.0
        runs_out = None
        room = size["capacity_bytes"] - size["bytes"]
        if growth and room > available_bytes:  # else the tables stop growing before then
            runs_out = max(0, available_bytes) / (growth / 3600.0)
        warning = self._warning(growth, runs_out, ends_in_s, limit)
        self._measured_at = now
        self.latest = TableMemory(
            **size,
            growth_bytes_per_h=growth,
            available_bytes=available_bytes,
            runs_out_in_s=runs_out,
            warning=warning,
        )
        return self.latest

    def _measure(self) -> dict[str, Any]:
        tables = self.tables
        if isinstance(tables, Tables):
            nodes = len(self._decision_nodes)
            return {
                "kind": "dense",
                "bytes": tables.nbytes,
                "capacity_bytes": tables.nbytes,
                "entries": self._legal_entries,
                "bytes_per_entry": tables.nbytes / max(self._legal_entries, 1),
                "regret_blocks": nodes,
                "strategy_blocks": nodes,
                "blocks": nodes,
                "rows": self._total_rows,
                "total_rows": self._total_rows,
                "later_sums_bytes": 0,
            }
        with_regret = tables.regret_at[self._decision_nodes] >= 0
        regret_blocks, strategy_blocks = tables.allocated_blocks()
        entries = int(tables.used[REGRET])
        allocated = tables.allocated_bytes
        offsets = tables.regret_at.nbytes + tables.strategy_at.nbytes
        return {
            "kind": "lazy",
            "bytes": allocated,
            "capacity_bytes": int(tables.regret.nbytes + tables.strategy_sum.nbytes + offsets),
            "entries": entries,
            "bytes_per_entry": allocated / entries if entries else None,
            "regret_blocks": regret_blocks,
            "strategy_blocks": strategy_blocks,
            "blocks": len(self._decision_nodes),
            "rows": int(self._node_rows[with_regret].sum()),
            "total_rows": self._total_rows,
            "later_sums_bytes": tables.later.file_bytes if tables.later is not None else 0,
        }

    def _growth(self, now: float, size: int) -> float | None:
        """Bytes per hour over the window, None until the samples span MIN_SPAN_SECONDS."""
        if self._first_at is None:
            self._first_at = now
        if now - self._first_at < WARMUP_SECONDS:
            return None
        samples = self._samples
        if not samples or now - samples[-1][0] >= SAMPLE_SECONDS:
            samples.append((now, size))
        # Keep one sample at least a window old, so the span covers the whole window.
        while len(samples) > 2 and now - samples[1][0] >= WINDOW_SECONDS:
            samples.popleft()
        since, before = samples[0]
        if now - since < MIN_SPAN_SECONDS:
            return None
        return max(0.0, (size - before) / (now - since) * 3600.0)

    def _warning(
        self, growth: float | None, runs_out: float | None, ends_in_s: float | None, limit: str
    ) -> str | None:
        was = self.latest.warning if self.latest is not None else None
        within = self.warn_within * (CLEAR_FACTOR if was else 1.0)
        if (
            growth is None
            or runs_out is None
            or runs_out > within
            or (ends_in_s is not None and ends_in_s < runs_out)  # the run ends first
        ):
            if was:
                log.info("table memory: %s no longer expected to run out soon", limit)
            return None
        warning = (
            f"table memory grows {format_bytes(growth)}/h; "
            f"{limit} runs out in {format_about(runs_out)}"
        )
        if not was:
            log.warning("%s", warning)
        return warning


def memory_headroom() -> tuple[int, str]:
    """(bytes the tables can still grow into, what limits them): the available memory, or
    the free space of /dev/shm when that is less - the shared tables live there, a tmpfs
    that is often half the memory, and 64 MiB in a default Docker container."""
    free = available_memory()
    try:
        shm = os.statvfs(SHM_DIR)
    except OSError:  # no /dev/shm (macOS)
        return free, AVAILABLE_MEMORY
    shm_free = shm.f_bavail * shm.f_frsize
    if shm_free < free:
        return shm_free, f"free space in {SHM_DIR}"
    return free, AVAILABLE_MEMORY
