"""The rows of the head's regret table that one extra host's replica lacks the current value of.

One flag per table row (a bit: ``solver.kernels.row_flags``), set by every merge and every
regret pass for every connected host and cleared when an update sends the row. A new session
flags every row that holds a value - every row of a dense table, the rows of allocated blocks
of a lazy one - so joining is fetching the whole table through the same path.
"""

from __future__ import annotations

import numpy as np

from holdemd.solver.kernels.row_flags import (
    GROUP_WORDS,
    WORD_BITS,
    flag_allocated,
    flag_range,
    flag_rows,
    flagged,
    take_flagged,
    unflag_rows,
)
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks


class StaleRows:
    def __init__(self, num_rows: int) -> None:
        self.num_rows = num_rows
        words = -(-num_rows // WORD_BITS)
        # np.zeros maps untouched pages lazily: a host costs memory only where rows are flagged.
        self.words = np.zeros(max(words, 1), dtype=np.uint64)
        self.summary = np.zeros(-(-self.words.size // GROUP_WORDS), dtype=np.uint8)
        self.count = 0  # rows flagged
        self._next_word = 0

    def mark(self, rows: np.ndarray) -> None:
        self.count += int(flag_rows(self.words, self.summary, rows))

    def mark_range(
        self, lo: int, hi: int, tables: LazyTables | None, blocks: NodeBlocks | None
    ) -> None:
        """Rows ``lo:hi`` changed; of lazy ``tables`` (with their game's ``blocks``), only rows
        of allocated blocks hold values."""
        if tables is None or blocks is None:
            self.count += int(flag_range(self.words, self.summary, lo, hi))
            return
        self.count += int(
            flag_allocated(
                self.words,
                self.summary,
                tables.regret_at,
                blocks.decision_nodes,
                blocks.row_base,
                blocks.num_buckets,
                lo,
                hi,
            )
        )

    def take(self, limit: int) -> np.ndarray:
        """int64[<= limit]: flagged rows, unflagged, ascending (from where the last take
        ended: rows flagged again and again cannot starve the others)."""
        out = np.empty(min(limit, self.count), dtype=np.int64)
        taken, self._next_word = take_flagged(
            self.words, self.summary, self._next_word, out.size, out
        )
        self.count -= int(taken)
        return np.sort(out[:taken])

    def unmark(self, rows: np.ndarray) -> None:
        self.count -= int(unflag_rows(self.words, rows))

    def flagged(self, rows: np.ndarray) -> np.ndarray:
        """bool[k]: whether each of ``rows`` is flagged."""
        out = np.empty(rows.size, dtype=bool)
        flagged(self.words, rows, out)
        return out
