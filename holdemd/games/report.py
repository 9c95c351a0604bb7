"""What a game's tree and tables will cost, before anything is allocated.

The numbers come from a count of the betting tree (``games.tree_size``, a fraction of a second
even for trees far too big to build) or from a built tree; either way :func:`_report` turns them
into infoset rows and bytes, and the bytes of the built tree itself (node arrays and packed
histories). ``holdemd tree`` prints them; it and run set-up (``training.plan.plan_run``) refuse,
before building anything, a tree or tables that do not fit in the machine's memory, with the
same numbers in the message. There is no node limit besides memory: the tree builder
(``games.nolimit_tree``) keeps no object per node.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from holdemd.config.schema import Config
from holdemd.durations import format_bytes
from holdemd.errors import UsageError
from holdemd.games import tree_size
from holdemd.games.betting import build_game_arrays
from holdemd.games.compiled import DEAL_HOLDEM, Game
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit_tree import tree_bytes
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
    tree_bytes: int = 0  # the built tree: node arrays and packed histories (an estimate)

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
        out.append(f"betting tree: {format_bytes(self.tree_bytes)} (node arrays and histories)")
        return out


def report_for(config: Config) -> TreeReport:
    """Build the tree ``config`` describes and report it; Hold'em trees without card tables."""
    from holdemd.abstraction.load import bundle_counts
    from holdemd.games.factory import build_game

    name = config.game.name
    if not game_kind(name).needs_buckets:
        arrays = build_game(config.game).arrays
        buckets = arrays.street_buckets.tolist()
        return _report(name, counts_of_arrays(arrays), buckets, 0, arrays.num_players, config)
    buckets = bundle_counts(config.abstraction.buckets)
    arrays, _, _ = build_game_arrays(
        nolimit_rules(config.game),
        buckets,
        DEAL_HOLDEM,
        tuple(range(52)),
        2 * config.game.players + 5,
    )
    counts = counts_of_arrays(arrays)
    players = config.game.players
    return _report(name, counts, buckets, card_table_bytes(buckets), players, config)


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
    players = config.game.players
    if kind.fixed_board:
        from holdemd.cards import parse_cards

        assert config.game.deck is not None  # checked by GameConfig
        deck = len(parse_cards(config.game.deck))
        pairs = deck * (deck - 1) // 2  # lossless buckets: the hole pairs
        return _report(name, counts, [pairs] * 4, 0, players, config, counted=True)
    buckets = bundle_counts(config.abstraction.buckets)
    card_bytes = card_table_bytes(buckets)
    return _report(name, counts, buckets, card_bytes, players, config, counted=True)


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
    num_players: int,
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
        tree_bytes=tree_bytes(counts.nodes, counts.max_actions, num_players),
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
    """Refuse a config whose tree, tables and bucket tables cannot fit in memory together."""
    free = available_memory() if available is None else available
    needed = report.table_bytes + report.bucket_table_bytes + report.tree_bytes + HEADROOM_BYTES
    if needed > free:
        how = "counted without building it" if report.counted else "built"
        raise UsageError(
            f"{source}: the tables need {format_bytes(report.table_bytes)} "
            f"({report.rows:,} infoset rows x {report.max_actions} actions x {TABLES} tables) "
            f"plus {format_bytes(report.bucket_table_bytes)} of card buckets and "
            f"{format_bytes(report.tree_bytes)} for the betting tree ({report.nodes:,} nodes, "
            f"{how}), but only {format_bytes(free)} of memory is available; use fewer buckets, "
            f"a smaller bet menu or lower max_raises (see `holdemd tree --config {source}`)"
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


def game_report(game: Game, itemsize: int = 4) -> TreeReport:
    a = game.arrays
    buckets = a.street_buckets.tolist()
    report = _report(game.name, counts_of_arrays(a), buckets, 0, a.num_players, itemsize=itemsize)
    # The game is in memory already, like its bucket tables: only the tables are still to come.
    return dataclasses.replace(report, tree_bytes=0)
