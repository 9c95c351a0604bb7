"""A `TreeReport` (``games.report``) in words: what ``holdemd tree`` prints without ``--json``."""

from __future__ import annotations

from holdemd.durations import format_bytes
from holdemd.games.report import HEADROOM_BYTES, TreeReport
from holdemd.solver.table_kind import AUTO_LAZY_ABOVE_BYTES


def report_lines(report: TreeReport) -> list[str]:
    """The report as ``holdemd tree`` prints it, one line per item."""
    width = max(len(s.street) for s in report.streets)
    how = " (counted without building the tree)" if report.counted else ""
    out = [
        f"{report.game}: {report.nodes:,} nodes, up to {report.max_actions} actions per node{how}"
    ]
    out.append(
        f"{'street':<{width}}  {'decisions':>10}  {'terminals':>10}  "
        f"{'buckets':>8}  {'infoset rows':>13}"
    )
    for s in report.streets:
        out.append(
            f"{s.street:<{width}}  {s.decision_nodes:>10,}  {s.terminal_nodes:>10,}  "
            f"{s.buckets:>8,}  {s.rows:>13,}"
        )
    out.append(
        f"infoset rows {report.rows:,} x {report.max_actions} actions: dense tables "
        f"{format_bytes(report.dense_table_bytes)} (regret + strategy sum, {report.table_kinds})"
    )
    averaged = (
        ""
        if not 0 < report.strategy_streets < len(report.streets)
        else f"; strategy sums on {report.streets[0].street} only: schedule.average first_round"
    )
    out.append(
        f"lazy tables: up to {format_bytes(report.compact_table_bytes)} with every node's "
        f"block allocated (legal actions only{averaged}), plus "
        f"{format_bytes(report.block_offset_bytes)} of block offsets"
    )
    out.append(f"this config keeps {report.table_kind} tables ({_why_this_kind(report)})")
    if report.lazy and report.later_sums_bytes:
        out.append(
            f"later streets' average: sums in a file on disk, not in memory, up to "
            f"{format_bytes(report.later_sums_bytes)} (the run's, and each kept snapshot's)"
        )
    if report.bucket_table_bytes:
        out.append(f"card abstraction tables: {format_bytes(report.bucket_table_bytes)}")
    out.append(f"betting tree: {format_bytes(report.tree_bytes)} (node arrays and histories)")
    needs = f"a run needs at least {format_bytes(report.memory_needed)} ({_needs(report)})"
    if report.lazy:
        needs += (
            f"; once training reaches every node {format_bytes(report.memory_fully_grown)} "
            "(snapshots write from the shared tables: no copy)"
        )
    out.append(needs)
    return out


def _why_this_kind(report: TreeReport) -> str:
    if report.tables_setting != "auto":
        return f"solver.tables: {report.tables_setting}"
    above = "above" if report.lazy else "at most"
    limit = format_bytes(AUTO_LAZY_ABOVE_BYTES)
    return f"solver.tables: auto, the dense tables are {above} {limit}"


def _needs(report: TreeReport) -> str:
    """What :attr:`TreeReport.memory_needed` adds up, in words."""
    parts = ["betting tree"] if report.tree_bytes else []
    if report.bucket_table_bytes:
        parts.append("card tables")
    if report.lazy:
        blocks = format_bytes(report.first_table_bytes - report.block_offset_bytes)
        parts.append(f"block offsets and a first {blocks} of blocks")
    else:
        parts.append("the dense tables, twice (a snapshot's copy)")
    parts.append(f"{format_bytes(HEADROOM_BYTES)} for the processes")
    return ", ".join(parts)
