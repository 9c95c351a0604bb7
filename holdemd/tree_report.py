"""What a game's tree and tables will cost, before anything is allocated.

``holdemd tree`` prints it; ``holdemd train`` refuses a config whose tables do not fit in the
machine's memory, with the same numbers in the message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from holdemd.config import Config
from holdemd.durations import format_bytes
from holdemd.errors import UsageError
from holdemd.game_factory import nolimit_rules
from holdemd.games import Game, make_game
from holdemd.games.betting import build_game_arrays
from holdemd.games.compiled import DEAL_HOLDEM, GameArrays
from holdemd.games.nolimit import STREET_NAMES

TABLES = 2  # regret and strategy_sum
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

    @property
    def nodes(self) -> int:
        return sum(s.decision_nodes + s.terminal_nodes for s in self.streets)

    def lines(self) -> list[str]:
        width = max(len(s.street) for s in self.streets)
        out = [f"{self.game}: {self.nodes:,} nodes, up to {self.max_actions} actions per node"]
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


def bucket_counts(spec: str) -> tuple[int, ...]:
    """Buckets per street of an abstraction spec, without loading its tables."""
    from holdemd.abstraction.presets import PRESETS

    if spec in PRESETS:
        return PRESETS[spec].counts
    from holdemd.abstraction import load_abstraction

    return load_abstraction(spec).counts


def report_for(config: Config) -> TreeReport:
    """Count the tree ``config`` describes; Hold'em trees are built without card tables."""
    name = config.game.name
    if name in ("kuhn", "leduc"):
        game = make_game(name)
        return _report(name, game.arrays, 0, table_itemsize(config), table_kinds(config))
    if name == "holdem_fixed_board":
        from holdemd.game_factory import build_game

        game = build_game(config.game)
        return _report(name, game.arrays, 0, table_itemsize(config), table_kinds(config))
    counts = bucket_counts(config.abstraction.buckets)
    arrays, _, _ = build_game_arrays(
        nolimit_rules(config.game),
        counts,
        DEAL_HOLDEM,
        tuple(range(52)),
        2 * config.game.players + 5,
    )
    # One byte per bucket id up to 256 buckets, else two; one entry per canonical hand.
    from holdemd.cards import num_indices

    per_entry = 1 if max(counts) <= 256 else 2
    entries = sum(num_indices(street) for street in range(4))
    return _report(name, arrays, per_entry * entries, table_itemsize(config), table_kinds(config))


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
    name: str, a: GameArrays, bucket_bytes: int, itemsize: int, kinds: str = "float32"
) -> TreeReport:
    streets = []
    decision = a.node_player >= 0
    for s in range(int(a.street_buckets.shape[0])):
        on_street = a.node_street == s
        decisions = int((decision & on_street).sum())
        buckets = int(a.street_buckets[s])
        label = STREET_NAMES[s] if name.startswith("holdem") else f"round {s + 1}"
        streets.append(
            StreetCounts(
                label, decisions, int((~decision & on_street).sum()), buckets, decisions * buckets
            )
        )
    rows = sum(s.rows for s in streets)
    max_actions = int(a.node_children.shape[1])
    return TreeReport(
        game=name,
        streets=tuple(streets),
        max_actions=max_actions,
        rows=rows,
        table_bytes=TABLES * rows * max_actions * itemsize,
        bucket_table_bytes=bucket_bytes,
        table_kinds=kinds,
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


def game_report(game: Game, itemsize: int = 4) -> TreeReport:
    return _report(game.name, game.arrays, 0, itemsize)
