"""Lazily allocated tables: a node's regret block exists once training first changes it.

Dense `Tables` give every (decision node, bucket) row ``max_actions`` entries from the start.
For 6-max games most of those rows are never reached (a node deep in a six-player tree is
sampled rarely), so `LazyTables` keep two *arenas*, flat arrays that are allocated front to
back, and per node the entry where its block starts (-1: not allocated, read as zeros, i.e.
the uniform strategy). A block is one node's rows for every bucket, each row as wide as the
node's legal actions (no padding to ``max_actions``), so entry
``at[node] + bucket * num_actions + action`` holds a value.

Why a whole node per block: a node's offset costs 8 bytes, and its rows are visited with
whatever bucket the deal gives, so a node that is reached at all soon has most of its rows
touched. Finer blocks would need an offset per (node, bucket group): more metadata, and a
second indirection in the traversal's hottest read. (`holdemctl status` shows the blocks and
rows allocated and the bytes per allocated entry.)

With ``average: first_round`` the later streets' sums of current-strategy snapshots are not in
the strategy arena but in a file (``later``, ``solver.later_sums``): every reader of the sums
(`rows`, `to_dense`, `average_strategy`) gets them from there.

The kernels read dense tables through the same indexing (a dense table is an arena whose
every block is allocated, rows ``max_actions`` wide: `dense_layout`), so there is one
traversal for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.kernels.lazy_merge import lazy_merge_fits, lazy_merge_rows
from holdemd.solver.kernels.node_index import COARSE_SHIFT, coarse_nodes, find_nodes
from holdemd.solver.later_sums import LaterSums, later_rows
from holdemd.solver.tables import (
    REGRET_DTYPES,
    TABLE_DTYPES,
    Tables,
    integer_regrets,
    largest_value,
    normalize_block,
    stored_floor,
)

REGRET, STRATEGY = 0, 1  # indices of ``used``: entries allocated in each arena


@dataclass
class NodeBlocks:
    """Where each decision node's rows are, by node: the geometry both arenas share."""

    decision_nodes: np.ndarray  # int64[D]: decision nodes, by increasing row base
    row_base: np.ndarray  # int64[D]: their first row, increasing
    num_actions: np.ndarray  # int32[D]
    num_buckets: np.ndarray  # int32[D]
    street: np.ndarray  # int32[D]
    # The node of every 1,024th row (``kernels.node_index``), made at the first look-up.
    _coarse_nodes: np.ndarray | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, game: Game) -> NodeBlocks:
        """The game's blocks, computed once per game object (tens of MB for 6-max trees, which
        the merge, the schedule and the status would otherwise each hold a copy of)."""
        cached = game.__dict__.get("_node_blocks")
        if cached is not None:
            return cached
        a = game.arrays
        nodes = np.flatnonzero(a.node_row_base >= 0).astype(np.int64)
        order = np.argsort(a.node_row_base[nodes], kind="stable")
        nodes = nodes[order]
        street = a.node_street[nodes].astype(np.int32)
        blocks = cls(
            decision_nodes=nodes,
            row_base=a.node_row_base[nodes].astype(np.int64),
            num_actions=a.node_num_actions[nodes].astype(np.int32),
            num_buckets=a.street_buckets[street].astype(np.int32),
            street=street,
        )
        object.__setattr__(game, "_node_blocks", blocks)  # a frozen dataclass: a cache beside it
        return blocks

    @property
    def block_entries(self) -> np.ndarray:
        """int64[D]: entries of each node's block (buckets x legal actions)."""
        return self.num_buckets.astype(np.int64) * self.num_actions

    def node_index(self, rows: np.ndarray) -> np.ndarray:
        """int64[k]: index into these arrays of the node each row belongs to (rows of the
        table: 0 <= row < the game's rows)."""
        rows = np.ascontiguousarray(rows)
        out = np.empty(rows.shape, dtype=np.int64)
        if rows.size:
            find_nodes(
                self.row_base, self._coarse(), COARSE_SHIFT, rows.reshape(-1), out.reshape(-1)
            )
        return out

    def _coarse(self) -> np.ndarray:
        if self._coarse_nodes is None:
            num_rows = int(self.row_base[-1] + self.num_buckets[-1]) if self.row_base.size else 0
            coarse = np.empty((num_rows >> COARSE_SHIFT) + 2, dtype=np.int64)
            coarse_nodes(self.row_base, num_rows, COARSE_SHIFT, coarse)
            self._coarse_nodes = coarse
        return self._coarse_nodes

    def kernel_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(decision_nodes, row_base, num_actions, num_buckets)``, as the kernels take them."""
        return (self.decision_nodes, self.row_base, self.num_actions, self.num_buckets)


@dataclass
class LazyTables:
    """Regret and strategy-sum arenas and, per node, where its block starts in each.

    ``regret``: int32, float32 or float64 [capacity]; ``strategy_sum``: float32 or float64
    [capacity]; ``regret_at`` and ``strategy_at``: int64[nodes of the game], -1 where not
    allocated; ``used``: int64[2], entries allocated in each arena (they grow front to back);
    ``later``: the later streets' sums on disk, None where every sum is in the arena (no
    first-round averaging, or a snapshot of format 2).
    """

    regret: np.ndarray
    strategy_sum: np.ndarray
    regret_at: np.ndarray
    strategy_at: np.ndarray
    used: np.ndarray
    later: LaterSums | None = None

    @classmethod
    def zeros(
        cls,
        game: Game,
        dtype: str = "float32",
        regret_dtype: str | None = None,
        capacity: int | None = None,
    ) -> LazyTables:
        """Nothing allocated; arenas of ``capacity`` entries (default: room for every node,
        which costs nothing until written: numpy's zeros come from pages the OS maps lazily)."""
        size = compact_entries(game) if capacity is None else capacity
        return cls(
            regret=np.zeros(size, dtype=REGRET_DTYPES[regret_dtype or dtype]),
            strategy_sum=np.zeros(size, dtype=TABLE_DTYPES[dtype]),
            regret_at=np.full(game.arrays.node_row_base.shape[0], -1, dtype=np.int64),
            strategy_at=np.full(game.arrays.node_row_base.shape[0], -1, dtype=np.int64),
            used=np.zeros(2, dtype=np.int64),
        )

    @property
    def allocated_bytes(self) -> int:
        """Bytes of the allocated entries and of the offsets: what the tables hold in memory."""
        return int(
            self.used[REGRET] * self.regret.itemsize
            + self.used[STRATEGY] * self.strategy_sum.itemsize
            + self.regret_at.nbytes
            + self.strategy_at.nbytes
        )

    def allocated_blocks(self) -> tuple[int, int]:
        """(nodes with a regret block, nodes with a strategy-sum block)."""
        return int((self.regret_at >= 0).sum()), int((self.strategy_at >= 0).sum())

    def rows(self, game: Game, rows: np.ndarray, which: str) -> np.ndarray:
        """float64[k, max_actions]: the ``which`` ("regret" or "strategy_sum") rows, zero
        where not allocated and beyond each row's legal actions (dense `Tables` layout);
        later streets' strategy sums from ``later`` when there is one."""
        blocks = NodeBlocks.of(game)
        rows = np.asarray(rows, dtype=np.int64)
        index = blocks.node_index(rows)
        nodes = blocks.decision_nodes[index]
        at = (self.regret_at if which == "regret" else self.strategy_at)[nodes]
        arena = self.regret if which == "regret" else self.strategy_sum
        n = blocks.num_actions[index]
        within = rows - blocks.row_base[index]
        out = np.zeros((rows.size, game.max_actions))
        for a in range(game.max_actions):
            present = (at >= 0) & (a < n)
            entry = at + within * n + a
            out[present, a] = arena[entry[present]]
        if which == "strategy_sum" and self.later is not None:
            after = blocks.street[index] > 0
            out[after] = later_rows(
                self.later,
                self.regret_at,
                self.strategy_at,
                self.strategy_sum,
                nodes[after],
                within[after],
                n[after],
                game.max_actions,
            )
        return out

    def to_dense(self, game: Game) -> Tables:
        """The same values as dense `Tables` (for small games: evaluation, tests, export)."""
        everything = np.arange(game.num_rows, dtype=np.int64)
        regret = self.rows(game, everything, "regret").astype(self.regret.dtype)
        strategy = self.rows(game, everything, "strategy_sum").astype(self.strategy_sum.dtype)
        return Tables(regret=regret, strategy_sum=strategy)

    @classmethod
    def from_dense(cls, game: Game, tables: Tables, capacity: int | None = None) -> LazyTables:
        """Lazy tables holding ``tables``' values: a node gets a block if any entry is non-zero."""
        lazy = cls.zeros(
            game,
            str(tables.strategy_sum.dtype),
            str(tables.regret.dtype),
            capacity=capacity,
        )
        blocks = NodeBlocks.of(game)
        for dense, arena, at, k in (
            (tables.regret, lazy.regret, lazy.regret_at, REGRET),
            (tables.strategy_sum, lazy.strategy_sum, lazy.strategy_at, STRATEGY),
        ):
            for d, node in enumerate(blocks.decision_nodes):
                base, n, b = blocks.row_base[d], blocks.num_actions[d], blocks.num_buckets[d]
                values = dense[base : base + b, :n]
                if not values.any():
                    continue
                start = int(lazy.used[k])
                arena[start : start + b * n] = values.reshape(-1)
                at[node] = start
                lazy.used[k] = start + b * n
        return lazy

    def average_strategy(self, game: Game, rows: np.ndarray) -> np.ndarray:
        """float64[k, max_actions]: the average strategy of ``rows`` (uniform where unset)."""
        legal = np.arange(game.max_actions)[None, :] < _row_actions(game, rows)[:, None]
        return normalize_block(self.rows(game, rows, "strategy_sum"), legal)


def merge_lazy(
    tables: LazyTables,
    blocks: NodeBlocks,
    rows: np.ndarray,
    regret_delta: np.ndarray,
    strategy_delta: np.ndarray,
    floor: float | None,
    rng: np.ndarray,
) -> bool:
    """`solver.tables.merge_rows` for lazy tables: the same arithmetic, bit for bit, with
    blocks allocated where the delta first changes them. False, having written nothing, when
    a float entry would not stay finite; `ArenaFull` when an arena has no room left.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    index = blocks.node_index(rows)
    integer = integer_regrets(tables.regret)
    lower = stored_floor(tables.regret, floor)
    args = (tables.regret, tables.strategy_sum, tables.regret_at, tables.strategy_at)
    kernel_blocks = blocks.kernel_arrays()
    limits = (largest_value(tables.regret), largest_value(tables.strategy_sum))
    if not lazy_merge_fits(
        *args, kernel_blocks, index, rows, regret_delta, strategy_delta, lower, integer, *limits
    ):
        return False
    dropped = lazy_merge_rows(
        *args,
        tables.used,
        kernel_blocks,
        index,
        rows,
        regret_delta,
        strategy_delta,
        lower,
        integer,
        rng,
    )
    if dropped:
        raise ArenaFull(f"{dropped} rows found no room in the table arenas")
    return True


class ArenaFull(RuntimeError):
    """An arena made smaller than every block needs ran out of room."""


def allocated_regret(tables: Tables | LazyTables) -> np.ndarray:
    """The regret entries that hold values: a dense table, or a lazy arena's allocated prefix.

    Never read a lazy arena past it: in shared memory even a read of an unwritten page makes
    the OS allocate it, and a strided scan would allocate the whole arena.
    """
    if isinstance(tables, LazyTables):
        return tables.regret[: int(tables.used[REGRET])]
    return tables.regret


def dense_strategy_sum(game: Game, tables: Tables | LazyTables, what: str) -> np.ndarray:
    """The strategy sums as a dense [rows, A] table, for consumers that read rows directly
    (look-ups, litmus checks, exact exploitability). Lazy tables are converted when the dense
    table stays under `DENSE_VIEW_LIMIT_BYTES`; above it ``what`` is refused in one line."""
    if isinstance(tables, Tables):
        return tables.strategy_sum
    size = game.num_rows * game.max_actions * tables.strategy_sum.itemsize
    if not dense_view_fits(game, tables):
        raise LazyTablesTooLarge(
            f"{what} needs the strategy as dense rows, {size / 2**30:.1f} GiB for this game's "
            "lazily allocated tables; it is not available for games this large yet"
        )
    return tables.to_dense(game).strategy_sum


DENSE_VIEW_LIMIT_BYTES = 1 << 30


def dense_view_fits(game: Game, tables: Tables | LazyTables) -> bool:
    """Whether `dense_strategy_sum` can give these tables as dense rows."""
    if isinstance(tables, Tables):
        return True
    return game.num_rows * game.max_actions * tables.strategy_sum.itemsize <= DENSE_VIEW_LIMIT_BYTES


class LazyTablesTooLarge(ValueError):
    """A consumer of dense rows was given lazy tables too large to convert."""


def _row_actions(game: Game, rows: np.ndarray) -> np.ndarray:
    blocks = NodeBlocks.of(game)
    return blocks.num_actions[blocks.node_index(np.asarray(rows, dtype=np.int64))]


def compact_entries(game: Game) -> int:
    """Entries of every block allocated: the arena size no run can exceed."""
    return int(NodeBlocks.of(game).block_entries.sum())


def dense_layout(game: Game) -> np.ndarray:
    """int64[nodes]: where each decision node's rows start in a dense table read flat
    (``row_base * max_actions``; -1 for other nodes), the offsets dense tables give the kernel."""
    base = game.arrays.node_row_base.astype(np.int64)
    return np.where(base >= 0, base * game.max_actions, -1)
