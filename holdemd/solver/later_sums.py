"""Later streets' average with lazy tables: sums of current-strategy snapshots, kept on disk.

With ``schedule.average: first_round`` (Pluribus) workers add to the strategy sums of the
first betting round only; a later street's average strategy is the mean of snapshots of the
current strategy, taken every ``average_interval`` (``training.schedule_runner``). Dense tables
add those snapshots into their strategy-sum rows. Lazy tables (6-max games) would need a
strategy-sum block beside every reached later-street regret block for them, 4 bytes per entry
on top of the regrets' 4 (issue 15 measured 4.7 bytes per entry before the first snapshot,
8.3 after). So lazy tables keep them in a file of the run directory instead: one value per
entry of the regret arena (entry i sums the current strategy of regret entry i, so the regret
offsets index both), rewritten by each snapshot pass (``training.later_sums_pass``), never in
memory.

Whatever the file does not hold is still read as the dense table would hold it:

* a discount since the file was written (``pending``): applied on reading, in order, in the
  table's dtype, as the dense discount multiplies;
* an entry past the file's end, a block allocated after the last pass started (or never):
  its regrets were zero until then, so each pass added the uniform strategy; ``fresh[n]`` is
  that value for a row of n legal actions, kept through passes and discounts;
* a later-street block in the strategy arena (format-2 snapshots kept the sums there; a dense
  run resumed with lazy tables): its arena values, until a pass has copied them to the file.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)  # eq: an array field; cached_property: no slots
class LaterSums:
    """The later streets' sums of a lazy run: a file and what it leaves unsaid (module doc)."""

    dtype: str  # the strategy sums' dtype (float32 or float64), the file's too
    path: Path | None  # a 1-D .npy file of ``entries`` values; None: no pass has written one
    entries: int  # regret-arena entries the file covers (its first ones)
    passes: int  # current-strategy snapshots summed so far
    pending: tuple[float, ...]  # discounts since the file was written, oldest first
    fresh: np.ndarray  # [max_actions + 1]: an entry's value past the file, by legal actions
    sha256: str | None = None  # of the file, for snapshot manifests (known when written)

    def __post_init__(self) -> None:
        # Mapped now (no page is read until used): the next pass renames its file over this
        # path, and these sums must go on reading the file they were written with.
        _ = self.values

    @classmethod
    def empty(cls, dtype: str | np.dtype, max_actions: int) -> LaterSums:
        """No pass yet: every later-street sum is zero."""
        kind = np.dtype(dtype)
        return cls(kind.name, None, 0, 0, (), np.zeros(max_actions + 1, dtype=kind))

    def discounted(self, factor: float) -> LaterSums:
        """These sums times ``factor`` (a linear-CFR discount): recorded, not applied to the
        file, which the next pass rewrites anyway."""
        kind = np.dtype(self.dtype).type
        return dataclasses.replace(
            self, pending=(*self.pending, factor), fresh=self.fresh * kind(factor)
        )

    def pending_factors(self) -> np.ndarray:
        """The pending discounts in the table's dtype, as the dense discount multiplies."""
        return np.array(self.pending, dtype=self.dtype)

    @functools.cached_property
    def values(self) -> np.ndarray:
        """The file's values, memory-mapped (read-only; empty when there is no file)."""
        if self.path is None or self.entries == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.load(self.path, mmap_mode="r", allow_pickle=False)

    @property
    def file_bytes(self) -> int:
        """The file's size on disk (0: none)."""
        if self.path is None:
            return 0
        try:
            return os.stat(self.path).st_size
        except OSError:
            return 0

    def manifest(self) -> dict[str, Any]:
        """What a snapshot manifest records beside the file (``"later_sums"``)."""
        return {
            "dtype": self.dtype,
            "entries": self.entries,
            "passes": self.passes,
            "pending": list(self.pending),
            "fresh": [float(v) for v in self.fresh],
        }

    @classmethod
    def from_manifest(
        cls, entry: Any, path: Path | None, sha256: str | None, max_actions: int
    ) -> LaterSums:
        """The sums a snapshot recorded; ValueError if ``entry`` is not such a record."""
        if not isinstance(entry, dict):
            raise ValueError("'later_sums' is not an object")
        dtype = entry.get("dtype")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"'later_sums' dtype {dtype!r} is not float32 or float64")
        entries, passes = entry.get("entries"), entry.get("passes")
        pending, fresh = entry.get("pending"), entry.get("fresh")
        if not (isinstance(entries, int) and entries >= 0 and isinstance(passes, int)):
            raise ValueError("'later_sums' entries or passes is not a count")
        if not (isinstance(pending, list) and all(isinstance(f, (int, float)) for f in pending)):
            raise ValueError("'later_sums' pending is not a list of factors")
        if not (isinstance(fresh, list) and len(fresh) == max_actions + 1):
            raise ValueError(f"'later_sums' fresh does not hold {max_actions + 1} values")
        if path is None and entries > 0:
            raise ValueError(f"'later_sums' covers {entries:,} entries but the file is missing")
        return cls(
            dtype,
            path,
            entries,
            passes,
            tuple(map(float, pending)),
            np.array(fresh, dtype=dtype),
            sha256,
        )


def later_rows(
    later: LaterSums,
    regret_at: np.ndarray,
    strategy_at: np.ndarray,
    strategy_sum: np.ndarray,
    nodes: np.ndarray,
    within: np.ndarray,
    num_actions: np.ndarray,
    max_actions: int,
) -> np.ndarray:
    """float64[k, max_actions]: the sums of k later-street rows, zero past each row's legal
    actions; each row given by its node, its index among the node's rows (the bucket) and the
    node's legal actions. Precedence as in the module doc: the file, an arena block, ``fresh``."""
    out = np.zeros((nodes.size, max_actions), dtype=later.dtype)
    r_at, s_at = regret_at[nodes], strategy_at[nodes]
    values, factors = later.values, later.pending_factors()
    for a in range(max_actions):
        legal = a < num_actions
        out[legal, a] = later.fresh[num_actions[legal]]
        arena = legal & (s_at >= 0)
        out[arena, a] = strategy_sum[s_at[arena] + within[arena] * num_actions[arena] + a]
        entry = r_at + within * num_actions + a
        filed = legal & (r_at >= 0) & (entry < later.entries)
        column = values[entry[filed]]
        for factor in factors:
            column = column * factor  # the table's dtype, as the dense discount
        out[filed, a] = column
    return out.astype(np.float64)
