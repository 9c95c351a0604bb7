"""Litmus at every snapshot: the sanity scenarios (``holdemd.evaluation.litmus``) judged on the
live average strategy, so a run going wrong shows in TensorBoard (``litmus/*``), status.json
(``litmus``) and the log hours before anyone plays it.

It is a handful of row look-ups through a `Blueprint` over the live strategy sums, read in the
event loop between merges (0.6-0.8 ms per snapshot on hunl_quick). The blueprint's tree
description is built once, in a thread, at the first snapshot, where the first look-ups also
load their compiled code: 0.5 s on hunl_quick, 1.4 s on hunl_mid, about 40 µs a node (so most
of a minute on 6max_mid's 2.1M nodes, estimated). An error in it never stops training:
it is logged once and shown in status.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.config.schema import Config
from holdemd.evaluation.litmus import LitmusReport, Scenario, load_scenarios, run_litmus
from holdemd.games.compiled import Game
from holdemd.games.kinds import game_kind
from holdemd.solver.lazy_tables import LazyTables, dense_strategy_sum, dense_view_fits
from holdemd.solver.tables import Tables
from holdemd.training import metrics as tags
from holdemd.training.metrics import MetricsWriter

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint

log = logging.getLogger("holdemd.litmus")


def litmus_enabled(config: Config) -> bool:
    """``training.litmus``; unset, on for Hold'em dealt from the whole deck, and wherever
    ``training.litmus_scenarios`` names a file."""
    training = config.training
    if training.litmus is not None:
        return training.litmus
    return game_kind(config.game.name).needs_buckets or training.litmus_scenarios is not None


def run_scenarios(config: Config) -> list[Scenario]:
    """The scenarios a run checks (none when litmus is off); a bad file is a `ConfigError`
    now, before anything starts."""
    if not litmus_enabled(config):
        return []
    extra = config.training.litmus_scenarios
    return load_scenarios(Path(extra) if extra else None)


class LitmusChecks:
    def __init__(
        self,
        config: Config,
        game: Game,
        tables: Tables | LazyTables,
        metrics: MetricsWriter,
        *,
        scenarios: list[Scenario],
        iteration: Callable[[], int],
    ) -> None:
        self.config = config
        self.game = game
        self.tables = tables  # the live tables, updated in place by the merges
        self.metrics = metrics
        self.iteration = iteration  # of the live table: what a check is labelled with
        self.scenarios = scenarios  # run_scenarios(config)
        if scenarios and not dense_view_fits(game, tables):
            log.info(
                "litmus checks are off: they read the strategy as dense rows, which this "
                "game's lazily allocated tables are too large for"
            )
            self.scenarios = []
        self.summary: dict[str, Any] | None = None  # status.json's "litmus"
        self.task: asyncio.Task[None] | None = None
        self._blueprint: Blueprint | None = None
        self._failing: set[str] = set()
        self._error_logged = False

    @property
    def enabled(self) -> bool:
        return bool(self.scenarios)

    def start(self, snapshot: str) -> None:
        """Judge the scenarios now that ``snapshot`` is written (skipped while the previous
        check still builds its blueprint). The live table is read, a few merges on from the
        snapshot's: the verdict is labelled with the iteration it saw."""
        if not self.enabled or (self.task is not None and not self.task.done()):
            return
        if self.summary is not None and self.summary.get("snapshot") == snapshot:
            return  # judged already (a final snapshot with nothing new to write)
        self.task = asyncio.create_task(self._check(snapshot))

    async def final(self, snapshot: str) -> None:
        """Judge the run's last snapshot and wait for the verdict (the status's last word)."""
        await self.finish()
        self.start(snapshot)
        await self.finish()

    async def finish(self, timeout: float = 60.0) -> None:
        """Let a running check land in the status before the run's last word."""
        if self.task is not None and not self.task.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.task), timeout)

    async def _check(self, snapshot: str) -> None:
        iteration = self.iteration()
        try:
            # A dense table is read live; lazy ones are converted, afresh for each check.
            if self._blueprint is None or isinstance(self.tables, LazyTables):
                self._blueprint = await asyncio.to_thread(self._open)
            iteration = self.iteration()
            report = run_litmus(self._blueprint, self.scenarios)  # between merges
        except Exception as exc:  # a sanity check must never stop training
            self._failed(exc, iteration, snapshot)
            return
        self._report(report, iteration, snapshot)

    def _open(self) -> Blueprint:
        from holdemd.blueprint.api import Blueprint

        strategy_sum = dense_strategy_sum(self.game, self.tables, "the litmus checks")
        blueprint = Blueprint.from_tables(
            self.game, strategy_sum, config=self.config, snapshot="live"
        )
        run_litmus(blueprint, self.scenarios)  # loads the look-ups' compiled code off the loop
        return blueprint

    def _report(self, report: LitmusReport, iteration: int, snapshot: str) -> None:
        self.summary = {**report.summary(), "iteration": iteration, "snapshot": snapshot}
        self.metrics.scalars(
            {
                tags.LITMUS_PASSED: float(report.passed),
                tags.LITMUS_FAILED: float(report.failed),
                tags.LITMUS_SKIPPED: float(report.skipped),
            },
            iteration,
        )
        skipped = f", {report.skipped} skipped" if report.skipped else ""
        head = (
            f"litmus at iteration {iteration:,}: {report.passed} of {report.total} "
            f"scenarios pass{skipped}"
        )
        if not report.failed:
            log.info("%s (%.1f ms)", head, 1000 * report.seconds)
        else:
            log.warning("%s; failing: %s", head, ", ".join(report.failing))
        for result in report.results:
            name = result.scenario.name
            if result.status == "fail" and name not in self._failing:
                log.warning("litmus %s fails: %s", name, result.detail)
            elif result.status != "fail" and name in self._failing:
                log.info("litmus %s passes again", name)
        self._failing = set(report.failing)

    def _failed(self, exc: Exception, iteration: int, snapshot: str) -> None:
        message = f"{type(exc).__name__}: {exc}"
        self.summary = {"error": message, "iteration": iteration, "snapshot": snapshot}
        if self._error_logged:
            log.debug("litmus at iteration %s failed again: %s", f"{iteration:,}", message)
            return
        self._error_logged = True
        log.error(
            "litmus at iteration %s could not run (%s); training goes on, and later failures "
            "are not logged",
            f"{iteration:,}",
            message,
            exc_info=exc,
        )
