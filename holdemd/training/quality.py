"""How good the strategy is while it trains: exact exploitability where it can be computed
(Kuhn, Leduc, the fixed-board game), and the optional short head-to-head, LBR and real-game
best response evaluations of bigger games, run in a thread on a copy of the strategy sums so
training never waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import numpy as np

from holdemd.config.schema import Config
from holdemd.games.compiled import Game
from holdemd.solver.exact import ExactEvaluator, can_enumerate
from holdemd.solver.tables import average_strategy
from holdemd.training import metrics as tags
from holdemd.training.metrics import MetricsWriter

log = logging.getLogger("holdemd.quality")


class QualityChecks:
    def __init__(self, config: Config, game: Game, metrics: MetricsWriter) -> None:
        self.config = config
        self.game = game
        self.metrics = metrics
        self.evaluator = ExactEvaluator(game) if can_enumerate(game) else None
        self.last_exact: tuple[int, float, float] | None = None  # (iteration, expl., value)
        self.periodic: asyncio.Task[None] | None = None

    async def exact(
        self, iteration: int, strategy_sum: Callable[[], np.ndarray]
    ) -> tuple[float | None, float | None]:
        """Exploitability and game value of the average strategy (None where not exact).
        ``strategy_sum`` gives the sums as dense rows, asked for only when they are needed
        (lazy tables are converted for it; a 6-max game's could not be)."""
        if self.evaluator is None:
            return None, None
        if self.last_exact is not None and self.last_exact[0] == iteration:
            return self.last_exact[1], self.last_exact[2]
        policy = average_strategy(self.game, strategy_sum().copy())
        evaluator = self.evaluator
        exploitability = await asyncio.to_thread(evaluator.exploitability, policy)
        value = evaluator.game_value(policy)
        log.info(
            "iteration %s: exploitability %.6f chips/game, game value %.6f",
            f"{iteration:,}",
            exploitability,
            value,
        )
        self.metrics.scalar(tags.QUALITY_EXPLOITABILITY, exploitability, iteration)
        self.last_exact = (iteration, exploitability, value)
        return exploitability, value

    def start_periodic(self, iteration: int, strategy_sum: Callable[[], np.ndarray]) -> None:
        """A short head-to-head (and LBR) evaluation of the average strategy, in a thread on a
        copy of the strategy sums, logged to TensorBoard at the iteration it was taken."""
        if self.periodic is not None and not self.periodic.done():
            return  # the previous one is still running: skip rather than queue
        cfg = self.config.training
        copy = strategy_sum().copy()

        def evaluate() -> dict[str, float]:
            from holdemd.evaluation.periodic import quality_scalars

            return quality_scalars(
                self.game,
                copy,
                deals=cfg.quality_deals,
                lbr_deals=cfg.quality_lbr_deals,
                rgbr_boards=cfg.quality_rgbr_boards,
                rgbr_from=cfg.quality_rgbr_from,
                seed=self.config.solver.seed,
            )

        async def run() -> None:
            try:
                values = await asyncio.to_thread(evaluate)
            except Exception as exc:  # an evaluation must never stop training
                log.error("quality evaluation at iteration %s failed: %s", f"{iteration:,}", exc)
                return
            self.metrics.scalars(values, iteration)
            log.info(
                "quality at iteration %s: %s",
                f"{iteration:,}",
                ", ".join(f"{k.split('/')[-1]} {v:+.1f}" for k, v in values.items()),
            )

        self.periodic = asyncio.create_task(run())

    async def finish_periodic(self, timeout: float = 30.0) -> None:
        """Let a running evaluation land in TensorBoard before the run ends (it reads a copy)."""
        if self.periodic is not None and not self.periodic.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.periodic), timeout)
