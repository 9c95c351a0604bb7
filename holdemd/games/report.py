"""What a game's tree and tables will cost, before anything is allocated.

The numbers come from a count of the betting tree (``games.tree_size``, a fraction of a second
even for trees far too big to build) or from a built tree; either way :func:`_report` turns them
into infoset rows and bytes. ``holdemd tree`` prints them; run set-up (``training.plan.plan_run``)
refuses, before building anything, a tree past the builder's node limit or tables that do not
fit in the machine's memory, with the same numbers in the message.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from holdemd.config.schema import Config
from holdemd.durations import format_bytes
from holdemd.errors import UsageError
from holdemd.games import tree_size
from holdemd.games.betting import MAX_NODES, build_game_arrays
from holdemd.games.compiled import DEAL_HOLDEM, Game
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.games.tree_size import (
    TreeCounts,
    TreeTooLargeToCount,
    count_nolimit_tree,
    counts_of_arrays,
)

TABLES = 2  # regret and strategy_sum


def _smaller_tree(source: str) -> str:
    return (
        "use fewer bet sizes, lower max_raises or fewer players "
        f"(`holdemd tree --config {source}` shows it per street)"
    )


# Memory left for everything but the tables (interpreter, kernels, buffers, bucket tables).
HEADROOM_BYTES = 1 << 30


@dataclass(frozen=True)
class StreetCounts:
    street: str
    decision_nodes: int
    terminal_nodes: int
    buckets: int
    rows: int


@dataclass(frozen=True)
class TreeReport:
    game: str
    streets: tuple[StreetCounts, ...]
    max_actions: int
    rows: int
    table_bytes: int  # regret + strategy_sum
    bucket_table_bytes: int
    table_kinds: str = "float32"  # the tables' dtypes, as the report prints them
    counted: bool = False  # counted without building the tree (else read off a built one)

    @property
    def nodes(self) -> int:
        return sum(s.decision_nodes + s.terminal_nodes for s in self.streets)

    def lines(self) -> list[str]:
        width = max(len(s.street) for s in self.streets)
        how = " (counted without building the tree)" if self.counted else ""
        out = [f"{self.game}: {self.nodes:,} nodes, up to {self.max_actions} actions per node{how}"]
        out.append(
            f"{'street':<{width}}  {'decisions':>10}  {'terminals':>10}  "
            f"{'buckets':>8}  {'infoset rows':>13}"
        )
        for s in self.streets:
            out.append(
                f"{s.street:<{width}}  {s.decision_nodes:>10,}  {s.terminal_nodes:>10,}  "
                f"{s.buckets:>8,}  {s.rows:>13,}"
            )
        out.append(
            f"infoset rows {self.rows:,} x {self.max_actions} actions: tables "
            f"{format_bytes(self.table_bytes)} (regret + strategy sum, {self.table_kinds})"
        )
        if self.bucket_table_bytes:
            out.append(f"card abstraction tables: {format_bytes(self.bucket_table_bytes)}")
        return out


def report_for(config: Config) -> TreeReport:
    """Build the tree ``config`` describes and report it; Hold'em trees without card tables."""
    from holdemd.abstraction.load import bundle_counts
    from holdemd.games.factory import build_game

    name = config.game.name
    if not game_kind(name).needs_buckets:
        arrays = build_game(config.game).arrays
        return _report(name, counts_of_arrays(arrays), arrays.street_buckets.tolist(), 0, config)
    buckets = bundle_counts(config.abstraction.buckets)
    arrays, _, _ = build_game_arrays(
        nolimit_rules(config.game),
        buckets,
        DEAL_HOLDEM,
        tuple(range(52)),
        2 * config.game.players + 5,
    )
    return _report(name, counts_of_arrays(arrays), buckets, card_table_bytes(buckets), config)


def count_for(config: Config) -> TreeReport:
    """Report the tree ``config`` describes without building it (Kuhn and Leduc, a few dozen
    nodes, are built).

    Raises:
        TreeTooLargeToCount: more betting states than the count goes through (see tree_size).
    """
    from holdemd.abstraction.load import bundle_counts

    name = config.game.name
    kind = game_kind(name)
    if kind.fixed_rules:
        return report_for(config)
    counts = count_nolimit_tree(nolimit_rules(config.game))
    if kind.fixed_board:
        from holdemd.cards import parse_cards

        assert config.game.deck is not None  # checked by GameConfig
        deck = len(parse_cards(config.game.deck))
        pairs = deck * (deck - 1) // 2  # lossless buckets: the hole pairs
        return _report(name, counts, [pairs] * 4, 0, config, counted=True)
    buckets = bundle_counts(config.abstraction.buckets)
    return _report(name, counts, buckets, card_table_bytes(buckets), config, counted=True)


def card_table_bytes(buckets: Sequence[int]) -> int:
    """One byte per bucket id up to 256 buckets, else two; one entry per canonical hand."""
    from holdemd.cards import num_indices

    per_entry = 1 if max(buckets) <= 256 else 2
    return per_entry * sum(num_indices(street) for street in range(4))


def table_itemsize(config: Config) -> int:
    """Bytes per entry, averaged over the two tables (int32 regrets beside float64 sums: 6)."""
    solver = config.solver
    regret = np.dtype(solver.regret_dtype or solver.table_dtype).itemsize
    return (regret + np.dtype(solver.table_dtype).itemsize) // 2


def table_kinds(config: Config) -> str:
    """``float32``, or e.g. ``int32 regrets, float64 strategy sums``."""
    solver = config.solver
    regret = solver.regret_dtype or solver.table_dtype
    if regret == solver.table_dtype:
        return regret
    return f"{regret} regrets, {solver.table_dtype} strategy sums"


def _report(
    name: str,
    counts: TreeCounts,
    buckets: Sequence[int],
    bucket_bytes: int,
    config: Config | None = None,
    *,
    counted: bool = False,
    itemsize: int = 4,
) -> TreeReport:
    """Rows and bytes of a tree with these ``counts`` and ``buckets`` per street; the tables'
    dtypes are the config's (else float32)."""
    streets = []
    for s, bucket_count in enumerate(buckets):
        label = game_kind(name).street_name(s)
        decisions = counts.decisions[s]
        streets.append(
            StreetCounts(
                label,
                decisions,
                counts.terminals[s],
                int(bucket_count),
                decisions * int(bucket_count),
            )
        )
    rows = sum(street.rows for street in streets)
    if config is not None:
        itemsize = table_itemsize(config)
    return TreeReport(
        game=name,
        streets=tuple(streets),
        max_actions=counts.max_actions,
        rows=rows,
        table_bytes=TABLES * rows * counts.max_actions * itemsize,
        bucket_table_bytes=bucket_bytes,
        table_kinds=table_kinds(config) if config is not None else "float32",
        counted=counted,
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
    """Refuse a config whose tables and bucket tables cannot fit in memory."""
    free = available_memory() if available is None else available
    needed = report.table_bytes + report.bucket_table_bytes + HEADROOM_BYTES
    if needed > free:
        raise UsageError(
            f"{source}: the tables need {format_bytes(report.table_bytes)} "
            f"({report.rows:,} infoset rows x {report.max_actions} actions x {TABLES} tables) "
            f"plus {format_bytes(report.bucket_table_bytes)} of card buckets, but only "
            f"{format_bytes(free)} of memory is available; use fewer buckets, a smaller bet "
            f"menu or lower max_raises (see `holdemd tree --config {source}`)"
        )


def check_buildable(report: TreeReport, source: str) -> None:
    """Refuse a tree the builder would stop on (it holds a Python record per node)."""
    if report.nodes > MAX_NODES:
        raise UsageError(
            f"{source}: the betting tree has {report.nodes:,} nodes (counted without building "
            f"it), more than the {MAX_NODES:,} the tree builder handles; {_smaller_tree(source)}"
        )


def check_countable(stop: TreeTooLargeToCount, source: str) -> None:
    """After a count that gave up: refuse if what it counted is past the builder's limit
    already; otherwise the tree may still be buildable, and the builder's own limit decides."""
    if stop.nodes_at_least > MAX_NODES:
        raise UsageError(
            f"{source}: the betting tree has more than {stop.nodes_at_least:,} nodes (counting "
            f"stopped after {tree_size.MAX_COUNTED_STATES:,} betting states), more than the "
            f"{MAX_NODES:,} the tree builder handles; {_smaller_tree(source)}"
        ) from stop


def check_before_building(config: Config, source: str) -> None:
    """Refuse, before building anything and in well under a second, a tree the builder would
    stop on or whose tables would not fit in memory."""
    try:
        report = count_for(config)
    except TreeTooLargeToCount as stop:
        check_countable(stop, source)
        return
    check_buildable(report, source)
    check_fits(report, source)


def game_report(game: Game, itemsize: int = 4) -> TreeReport:
    a = game.arrays
    return _report(game.name, counts_of_arrays(a), a.street_buckets.tolist(), 0, itemsize=itemsize)
