"""What each extra host's replica lacks of the head's regret table, and the updates that bring it.

Every merge (a local worker's or a host's) flags the rows it changed for every connected host
(``StaleRows``); an update sends flagged rows' current values and clears their flags, at most
``update_rows`` per update. A new session flags every row that holds a value: joining is
fetching the whole table through the same path.

Discounts are not sent as values: a discount changes every row, and sending the table again
would cost each host the whole table per discount (on hunl_mid, one every few seconds). The
head sends the factor once the pass is done and the node applies it to its whole replica before
the update's values. That is exact for every row the pass and the node agree on; the others are
sent again: rows merged meanwhile are flagged by their merge, and rows sent while the pass was
under way (the node may have received them discounted already) are flagged again when it ends.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from holdemd.games.compiled import Game
from holdemd.hosts.remote import RemoteHost
from holdemd.hosts.stale_rows import StaleRows
from holdemd.solver.kernels.lazy_rows import gather_allocated_rows
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks
from holdemd.solver.tables import Tables


class ReplicaFeed:
    def __init__(
        self, game: Game, tables: Tables | LazyTables, hosts: Iterable[RemoteHost], budget: int
    ) -> None:
        self.game = game
        self.tables = tables
        self.hosts = hosts  # the head's, all of them; connected ones have ``stale``
        self.lazy = tables if isinstance(tables, LazyTables) else None
        self.blocks = NodeBlocks.of(game) if self.lazy is not None else None
        row_bytes = game.max_actions * tables.regret.itemsize + 8
        self.update_rows = max(1, budget // row_bytes)
        self.wire_rows = np.int64 if game.num_rows > 2**31 - 1 else np.int32
        self.discounts: list[float] = []  # factors of the discounts done, in order
        self.discounting = False  # a discount pass is under way

    def join(self, host: RemoteHost) -> None:
        """A new session: every row with a value is stale; past discounts are in the values."""
        host.stale = StaleRows(self.game.num_rows)
        host.stale.mark_range(0, self.game.num_rows, self.lazy, self.blocks)
        host.discounts_seen = len(self.discounts)
        host.sent_while_discounting.clear()

    def changed(self, rows: np.ndarray) -> None:
        """``rows`` changed (a merge): every connected host lacks them."""
        for host in self.hosts:
            if host.stale is not None:
                host.stale.mark(rows)

    def discount_started(self) -> None:
        self.discounting = True

    def discount_done(self, factor: float) -> None:
        self.discounting = False
        self.discounts.append(factor)
        for host in self.hosts:
            if host.stale is not None:
                for rows in host.sent_while_discounting:
                    host.stale.mark(rows)
            host.sent_while_discounting.clear()

    def in_sync(self, host: RemoteHost, rows: np.ndarray) -> np.ndarray | None:
        """bool[k]: which of an exact delta's rows the host had the head's value of (they stay
        in sync through the merge: `settle`); None while a discount is under way or not yet
        sent to it (its replica's values are about to be scaled)."""
        if host.stale is None or self.discounting or host.discounts_seen < len(self.discounts):
            return None
        return ~host.stale.flagged(rows)

    def settle(self, host: RemoteHost, rows: np.ndarray) -> None:
        """``rows`` were merged exactly as the host added them: it has their values."""
        if host.stale is not None:
            host.stale.unmark(rows)

    def update(self, host: RemoteHost) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """The next update's rows, their values, the rows still stale after it, and the
        discounts the host has not been sent."""
        assert host.stale is not None
        rows = host.stale.take(self.update_rows)
        if self.discounting:
            host.sent_while_discounting.append(rows)
        discounts = np.array(self.discounts[host.discounts_seen :], dtype=np.float64)
        host.discounts_seen = len(self.discounts)
        rows, values = self.values(rows)
        return rows.astype(self.wire_rows), values, host.stale.count, discounts

    def values(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The current values of ``rows``: dense rows, or the rows of allocated lazy blocks and
        their legal entries, compact (``solver.kernels.lazy_rows``)."""
        if self.lazy is None:
            return rows, self.tables.regret[rows]
        blocks = self.blocks
        assert blocks is not None
        kept = np.empty(rows.size, dtype=np.int64)
        values = np.empty(rows.size * self.game.max_actions, dtype=self.lazy.regret.dtype)
        k, n = gather_allocated_rows(
            self.lazy.regret,
            self.lazy.regret_at,
            blocks.kernel_arrays(),
            blocks.node_index(rows),
            rows,
            kept,
            values,
        )
        return kept[:k], values[:n]
