"""The merge: a worker's delta checked and added into the global tables.

The supervisor is the tables' only writer, so no update is lost. A delta is refused, and
nothing of it written, when it does not fit the tables, when it cannot be an honest batch (see
:meth:`Merger.implausible`), or when adding it would make a float table non-finite. The
arithmetic itself (floors, int32 rounding) is ``solver.tables.merge_rows``, which the kernel
tests run too.
"""

from __future__ import annotations

import math
import time

import numpy as np

from holdemd.games.compiled import Game
from holdemd.protocol.hosts import HostDelta
from holdemd.protocol.worker import Delta
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks, merge_lazy
from holdemd.solver.tables import Tables, merge_rows

DELTA_SLACK = 4.0  # see Merger.implausible
ROUNDING_STREAM = 1 << 62  # the integer-regret rounding's RNG stream: one no worker uses


class Merger:
    def __init__(
        self,
        game: Game,
        tables: Tables | LazyTables,
        *,
        batch_size: int,
        linear: bool,
        regret_unit: float,
        seed: int,
    ) -> None:
        self.game = game
        self.tables = tables
        self.batch_size = batch_size
        self.linear = linear
        self.regret_unit = regret_unit
        self.rounding = make_rng_state(seed, stream=ROUNDING_STREAM)
        # Dense tables: the rows any merge reached (a flag per row). Lazy tables count their
        # allocated blocks instead: a flag per row would cost 6-max games hundreds of MB.
        self.blocks = NodeBlocks.of(game) if isinstance(tables, LazyTables) else None
        self.touched = None if self.blocks else np.zeros(game.num_rows, dtype=bool)
        self.merges = 0
        self.merge_seconds = 0.0
        self.delta_bytes = 0

    def merge(
        self,
        delta: Delta | HostDelta,
        *,
        iteration: int,
        floor: float | None,
        prune_probability: float,
        max_iterations: int | None = None,
    ) -> str | None:
        """Add ``delta`` to the tables; None when merged, else why it was refused.
        ``max_iterations``: how many iterations it may hold (default: one batch's; a host's
        delta sums many batches)."""
        rows = delta.rows
        if rows.size and (
            int(rows.max()) >= self.game.num_rows or delta.regret.shape[1] != self.game.max_actions
        ):
            return "delta does not fit the tables"
        why = self.implausible(delta, iteration, prune_probability, max_iterations)
        if why is not None:
            return why
        started = time.perf_counter()
        if not self._add(delta, floor):
            return "it would make the tables non-finite"
        if self.touched is not None:
            self.touched[rows] = True
        self.merge_seconds += time.perf_counter() - started
        self.merges += 1
        self.delta_bytes += rows.nbytes + delta.regret.nbytes + delta.strategy.nbytes
        return None

    def _add(self, delta: Delta | HostDelta, floor: float | None) -> bool:
        tables = self.tables
        if isinstance(tables, LazyTables):
            assert self.blocks is not None
            return merge_lazy(
                tables, self.blocks, delta.rows, delta.regret, delta.strategy, floor, self.rounding
            )
        return merge_rows(tables, delta.rows, delta.regret, delta.strategy, floor, self.rounding)

    def implausible(
        self,
        delta: Delta | HostDelta,
        iteration: int,
        prune_probability: float,
        max_iterations: int | None = None,
    ) -> str | None:
        """Why a delta cannot be a worker's honest batch, or None.

        A batch runs at most ``batch_size`` iterations, and per iteration a row's regret
        changes by at most twice the largest payoff and its strategy sum by at most one per
        other player, each times the iteration's weight (linear CFR weighs iteration t by t)
        and the importance weight of pruning's probes (1 / (1 - p)); ``DELTA_SLACK`` leaves
        room for the kernel's exact bookkeeping. Beyond that a delta is corrupt or forged (a
        float32-max delta turned tables infinite), and it is refused before it is merged.
        """
        iterations = delta.iterations
        most = self.batch_size if max_iterations is None else max_iterations
        if not 0 <= iterations <= most:
            return f"{iterations} iterations, a delta holds 0 to {most:,}"
        if delta.rows.size == 0:
            return None
        weight = DELTA_SLACK * (float(iteration + iterations + 1) if self.linear else 1.0)
        if prune_probability > 0:
            weight /= max(1.0 - prune_probability, 1e-6)
        game = self.game
        bounds = (
            ("regret", delta.regret, 2.0 * game.utility_scale * self.regret_unit),
            # Strategy sums grow where the others traverse: up to once per other player.
            ("strategy", delta.strategy, float(max(game.num_players - 1, 1))),
        )
        for name, values, per_iteration in bounds:
            limit = per_iteration * weight * max(iterations, 1)
            largest = max(float(values.max()), -float(values.min()))
            if not math.isfinite(largest) or largest > limit:
                return f"{name} change {largest:.3g} over the bound {limit:.3g}"
        return None
