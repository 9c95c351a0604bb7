"""Whether a run of a game fits in this machine's memory: the refusals and the note.

Run set-up (``training.plan``, ``training.run``) and ``holdemd tree`` ask here before building
a tree or allocating tables; the figures they compare are a `TreeReport`'s
(``games.report``); the memory available is the kernel's MemAvailable, read each time.
"""

from __future__ import annotations

import os

from holdemd.config.schema import Config
from holdemd.durations import format_bytes
from holdemd.errors import UsageError
from holdemd.games import tree_size
from holdemd.games.nolimit_tree import tree_bytes
from holdemd.games.report import HEADROOM_BYTES, TABLES, TreeReport, count_for
from holdemd.games.tree_size import TreeTooLargeToCount


def _smaller_tree(source: str) -> str:
    return (
        "use fewer bet sizes, lower max_raises or fewer players "
        f"(`holdemd tree --config {source}` shows it per street)"
    )


def available_memory() -> int:
    """Bytes of memory available to new allocations (MemAvailable), else physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_fits(report: TreeReport, source: str, available: int | None = None) -> None:
    """Refuse a config whose run cannot fit in memory: the tree, the card tables, the tables at
    the start of the run and a snapshot's copy of them (:attr:`TreeReport.memory_needed`).

    Dense tables are allocated whole, so they must fit; lazily allocated ones
    (``report.table_kind == "lazy"``) need only their block offsets and a first working set of
    blocks, however large the dense tables would be.
    """
    free = available_memory() if available is None else available
    if report.memory_needed <= free:
        return
    how = "counted without building it" if report.counted else "built"
    if report.lazy:
        blocks = report.first_table_bytes - report.block_offset_bytes
        tables = (
            f"the lazy tables need {format_bytes(report.first_table_bytes)} at the start "
            f"({format_bytes(report.block_offset_bytes)} of block offsets and a first "
            f"{format_bytes(blocks)} of blocks),"
        )
        advice = "use fewer bet sizes, lower max_raises or fewer players"
    else:
        tables = (
            f"the tables need {format_bytes(report.dense_table_bytes)} "
            f"({report.rows:,} infoset rows x {report.max_actions} actions x {TABLES} tables), "
            "twice that while a snapshot copies them,"
        )
        advice = "use fewer buckets, a smaller bet menu, lower max_raises or solver.tables: lazy"
    raise UsageError(
        f"{source}: {tables} plus {format_bytes(report.bucket_table_bytes)} of card buckets and "
        f"{format_bytes(report.tree_bytes)} for the betting tree ({report.nodes:,} nodes, "
        f"{how}), but only {format_bytes(free)} of memory is available; {advice} "
        f"(see `holdemd tree --config {source}`)"
    )


def growth_note(report: TreeReport, source: str, available: int | None = None) -> str | None:
    """A note for a config whose lazy tables fit at the start (:func:`check_fits`) but would
    not once training has reached every node, snapshots included; None if they would."""
    free = available_memory() if available is None else available
    if not report.lazy or report.memory_fully_grown_snapshot <= free:
        return None
    return (
        f"{source}: once training reaches every node a run holds "
        f"{format_bytes(report.memory_fully_grown)}, more than the {format_bytes(free)} of "
        "memory available now: a long run may run out (holdemctl status shows the growth, and "
        "health warns hours before)"
    )


def check_countable(
    stop: TreeTooLargeToCount, config: Config, source: str, available: int | None = None
) -> None:
    """After a count that gave up: refuse if the nodes it counted already would not fit in
    memory; otherwise the tree may still fit, and the builder (which grows its arrays) tries."""
    free = available_memory() if available is None else available
    # A lower bound: every decision has at least two actions (fold or check, and call or bet).
    at_least = tree_bytes(stop.nodes_at_least, 2, config.game.players)
    if at_least + HEADROOM_BYTES > free:
        raise UsageError(
            f"{source}: the betting tree has more than {stop.nodes_at_least:,} nodes (counting "
            f"stopped after {tree_size.MAX_COUNTED_STATES:,} betting states), more than "
            f"{format_bytes(at_least)} to build, but only {format_bytes(free)} of memory is "
            f"available; {_smaller_tree(source)}"
        ) from stop


def check_before_building(config: Config, source: str) -> None:
    """Refuse, before building anything and in well under a second, a tree or tables that
    would not fit in memory."""
    try:
        report = count_for(config)
    except TreeTooLargeToCount as stop:
        check_countable(stop, config, source)
        return
    check_fits(report, source)
