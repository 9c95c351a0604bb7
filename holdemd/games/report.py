"""What a game's tree and tables will cost, before anything is allocated.

The numbers come from a count of the betting tree (``games.tree_size``, a fraction of a second
even for trees far too big to build) or from a built tree; either way :func:`_report` turns them
into infoset rows and bytes, and the bytes of the built tree itself (node arrays and packed
histories). ``holdemd tree`` prints them (``games.report_text``); it and run set-up
(``training.plan.plan_run``) refuse, before building anything, a tree or tables that do not fit
in the machine's memory, with the same numbers in the message (``games.memory_check``). There
is no node limit besides memory: the tree builder (``games.nolimit_tree``) keeps no object per
node.

Tables come in two kinds (``solver.tables``, decided by ``solver.table_kind``). Dense tables
are allocated whole at the start, so they must fit, and so must the copy a snapshot takes of
them. Lazily allocated tables (``solver.lazy_tables``) start with only a block offset per node
and grow a node's block (buckets x its legal actions) when training first reaches it, up to the
*compact* size; a run needs room for the offsets and a first working set of blocks, and the
report gives the compact size so that one can see how far they can grow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from holdemd.config.schema import Config
from holdemd.games.betting import build_game_arrays
from holdemd.games.compiled import DEAL_HOLDEM, Game
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit_tree import tree_bytes
from holdemd.games.tree_size import (
    TreeCounts,
    count_nolimit_tree,
    counts_of_arrays,
)
from holdemd.solver.table_kind import table_itemsizes, uses_lazy_tables

TABLES = 2  # regret and strategy_sum
# Memory left for everything but the tables (interpreter, kernels, buffers, bucket tables).
HEADROOM_BYTES = 1 << 30
# A snapshot copies dense tables between merges and writes the copy from a thread
# (training.snapshotter), so while one is written the run holds them twice. Lazy tables are
# written straight from shared memory while merges wait: no copy.
DENSE_SNAPSHOT_COPIES = 1
OFFSET_BYTES = 8  # lazy tables: per node and table, an int64 where its block starts
# Lazy tables: the room for blocks a run must have at the start. A floor, not an estimate:
# training allocates blocks from its first minutes (every preflop node is reached at once), so a
# machine without a GiB for them would fail soon after the start; the report says how far they
# can grow (compact_table_bytes).
LAZY_FIRST_BLOCKS_BYTES = 1 << 30


@dataclass(frozen=True)
class StreetCounts:
    street: str
    decision_nodes: int
    terminal_nodes: int
    buckets: int
    rows: int
    legal_actions: int = 0  # summed over the street's decision nodes


@dataclass(frozen=True)
class TreeReport:
    game: str
    streets: tuple[StreetCounts, ...]
    max_actions: int
    rows: int
    dense_table_bytes: int  # regret + strategy_sum, every row max_actions wide
    bucket_table_bytes: int
    table_kinds: str = "float32"  # the tables' dtypes, as the report prints them
    counted: bool = False  # counted without building the tree (else read off a built one)
    tree_bytes: int = 0  # the built tree: node arrays and packed histories (an estimate)
    table_kind: str = "dense"  # what a run of the config keeps: dense or lazy
    tables_setting: str = "dense"  # solver.tables (auto, dense, lazy) that chose it
    # Lazy tables with every node's block allocated: buckets x legal actions, no padding;
    # strategy sums only on the first strategy_streets streets (1 with average: first_round).
    compact_table_bytes: int = 0
    strategy_streets: int = 0
    block_offset_bytes: int = 0  # lazy tables: one offset per node and table
    # Lazy tables with first-round averaging: the later streets' sums live in a file on disk
    # (solver.later_sums), one strategy-sum entry per regret entry; this is its largest size.
    later_sums_bytes: int = 0

    @property
    def nodes(self) -> int:
        return sum(s.decision_nodes + s.terminal_nodes for s in self.streets)

    @property
    def lazy(self) -> bool:
        return self.table_kind == "lazy"

    @property
    def first_table_bytes(self) -> int:
        """The tables at the start of a run: dense ones whole; lazy ones their block offsets and
        a first working set of blocks."""
        if not self.lazy:
            return self.dense_table_bytes
        blocks = min(LAZY_FIRST_BLOCKS_BYTES, self.compact_table_bytes)
        return self.block_offset_bytes + blocks

    @property
    def memory_needed(self) -> int:
        """Bytes a run needs at least: the tree, the card tables, the tables at the start and a
        snapshot's copy of them, and headroom for the processes. The memory check's figure."""
        return self._memory(self.first_table_bytes, self.snapshot_copies)

    @property
    def grown_table_bytes(self) -> int:
        """The tables once training has reached every node (dense ones: from the start)."""
        if not self.lazy:
            return self.dense_table_bytes
        return self.block_offset_bytes + self.compact_table_bytes

    @property
    def memory_fully_grown(self) -> int:
        """Bytes a run holds once training has reached every node, between snapshots."""
        return self._memory(self.grown_table_bytes, 0)

    @property
    def memory_fully_grown_snapshot(self) -> int:
        """:attr:`memory_fully_grown` while a snapshot is written (the same for lazy tables)."""
        return self._memory(self.grown_table_bytes, self.snapshot_copies)

    @property
    def snapshot_copies(self) -> int:
        """Copies of the tables a snapshot holds while it is written."""
        return 0 if self.lazy else DENSE_SNAPSHOT_COPIES

    def _memory(self, table_bytes: int, copies: int) -> int:
        tables = table_bytes * (1 + copies)
        return self.tree_bytes + self.bucket_table_bytes + tables + HEADROOM_BYTES


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
    return sum(table_itemsizes(config)) // 2


def strategy_streets(config: Config, num_streets: int) -> int:
    """The streets, from the first, whose strategy sums training accumulates: only the first
    with ``schedule.average: first_round`` (as ``solver.schedule.Schedule.average_streets``)."""
    first_round = config.schedule.average == "first_round" and num_streets > 1
    return 1 if first_round else num_streets


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
    dtypes, kind and averaging are the config's (without one: dense, ``itemsize`` bytes an
    entry in both tables, strategy sums on every street)."""
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
                counts.actions[s],
            )
        )
    rows = sum(street.rows for street in streets)
    regret_size, strategy_size = (itemsize, itemsize) if config is None else table_itemsizes(config)
    averaged = len(streets) if config is None else strategy_streets(config, len(streets))
    # A node's block holds buckets x legal actions entries (solver.lazy_tables.NodeBlocks).
    entries = [street.buckets * street.legal_actions for street in streets]
    compact = sum(entries) * regret_size + sum(entries[:averaged]) * strategy_size
    lazy = config is not None and uses_lazy_tables(config, rows, counts.max_actions)
    later = sum(entries) * strategy_size if lazy and 0 < averaged < len(streets) else 0
    return TreeReport(
        game=name,
        streets=tuple(streets),
        max_actions=counts.max_actions,
        rows=rows,
        dense_table_bytes=rows * counts.max_actions * (regret_size + strategy_size),
        bucket_table_bytes=bucket_bytes,
        table_kinds=table_kinds(config) if config is not None else "float32",
        counted=counted,
        tree_bytes=tree_bytes(counts.nodes, counts.max_actions, num_players),
        table_kind="lazy" if lazy else "dense",
        tables_setting="dense" if config is None else config.solver.tables,
        compact_table_bytes=compact,
        strategy_streets=averaged,
        block_offset_bytes=TABLES * OFFSET_BYTES * counts.nodes,
        later_sums_bytes=later,
    )


def game_report(game: Game, itemsize: int = 4, *, config: Config | None = None) -> TreeReport:
    """The report of a built game. With ``config``, its tables' kind, dtypes and averaging
    (what a run of it keeps); without one, dense tables of ``itemsize`` bytes an entry."""
    a = game.arrays
    buckets = a.street_buckets.tolist()
    counts = counts_of_arrays(a)
    report = _report(game.name, counts, buckets, 0, a.num_players, config, itemsize=itemsize)
    # The game is in memory already, like its bucket tables: only the tables are still to come.
    return dataclasses.replace(report, tree_bytes=0)
