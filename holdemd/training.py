"""Foreground training in one process: run MCCFR until the budget is spent, snapshot, report.

The loop runs the kernel in chunks of about a fifth of a second, so the time budget, progress
lines, snapshots and Ctrl-C are all handled between chunks without slowing the kernel.
The parallel supervisor replaces the inner chunk with merged worker deltas; the rest (budget,
snapshots, run directory) stays.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from holdemd.config import Config
from holdemd.daemon.snapshot_store import prune_snapshots, remove_stale_temp_dirs
from holdemd.daemon.snapshots import SnapshotInfo, snapshot_name, write_snapshot
from holdemd.durations import format_bytes, format_duration
from holdemd.errors import SnapshotError
from holdemd.game_factory import build_game
from holdemd.games import Game
from holdemd.runs import snapshot_manifest
from holdemd.solver.exact import ExactEvaluator, can_enumerate
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables
from holdemd.tree_report import check_fits, game_report, table_itemsize

log = logging.getLogger("holdemd.train")

CHUNK_SECONDS = 0.2  # kernel time between checks of budget, signals and progress


@dataclass(frozen=True)
class TrainingResult:
    iterations: int
    elapsed_seconds: float
    stopped_by: str  # "iterations", "time budget" or "interrupted"
    snapshot: SnapshotInfo | None
    exploitability: float | None
    game_value: float | None


class StopRequest:
    """First SIGINT/SIGTERM asks for a clean stop at a chunk boundary; a second one forces."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.info(
            "stop requested (%s): finishing the batch and writing a final snapshot; "
            "press Ctrl-C again to force",
            signal.Signals(signum).name,
        )


@contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[None]:
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class LocalTrainer:
    """Trains ``config`` in this process, writing snapshots under ``run_dir``."""

    def __init__(self, config: Config, run_dir: Path, config_source: str = "config") -> None:
        self.config = config
        self.run_dir = run_dir
        self.game: Game = build_game(config.game, config.abstraction.buckets)
        check_fits(game_report(self.game, table_itemsize(config)), source=config_source)
        self.tables = Tables.zeros(self.game, config.solver.table_dtype)
        self.solver = ExternalSamplingMCCFR(
            self.game,
            self.tables,
            seed=config.solver.seed,
            linear=config.solver.linear_weighting,
        )
        # Exact evaluation where every deal can be enumerated (Kuhn, Leduc, fixed-board Hold'em).
        self.evaluator = ExactEvaluator(self.game) if can_enumerate(self.game) else None
        self.elapsed_before = 0.0  # seconds trained by earlier sessions of a resumed run
        self.last_snapshot: SnapshotInfo | None = None
        self.snapshots_written = 0  # numbers each snapshot, so "keep every Nth" stays stable
        self._quality: tuple[int, float, float] | None = None  # (iteration, expl., value)

    def run(self, stop: StopRequest | None = None) -> TrainingResult:
        cfg = self.config.training
        stop = stop or StopRequest()
        remove_stale_temp_dirs(self.run_dir)
        budget = cfg.time_budget_seconds
        target = cfg.iterations or None
        log.info(
            "training %s: %d infoset rows x %d actions (%s tables, %s), seed %d, %s",
            self.game.name,
            self.game.num_rows,
            self.game.max_actions,
            self.config.solver.table_dtype,
            format_bytes(self.tables.nbytes),
            self.config.solver.seed,
            _limits_text(target, budget),
        )
        self._warm_up()
        started = time.monotonic()
        chunk = 1_000
        next_progress = started + cfg.progress_interval
        next_snapshot = started + cfg.snapshot_interval_seconds
        next_eval = cfg.eval_interval or None
        rate_mark = (started, self.solver.iteration)
        stopped_by = "iterations"
        while True:
            elapsed = time.monotonic() - started
            if stop.requested:
                stopped_by = "interrupted"
                break
            if target is not None and self.solver.iteration >= target:
                stopped_by = "iterations"
                break
            if budget is not None and self.elapsed_before + elapsed >= budget:
                stopped_by = "time budget"
                break
            todo = chunk if target is None else min(chunk, target - self.solver.iteration)
            if next_eval is not None:
                todo = min(todo, next_eval - self.solver.iteration)  # evaluate exactly there
            t0 = time.monotonic()
            self.solver.run(todo)
            spent = time.monotonic() - t0
            # Size the next chunk to take about CHUNK_SECONDS.
            chunk = max(100, min(chunk * 4, int(todo * CHUNK_SECONDS / max(spent, 1e-6))))
            now = time.monotonic()
            if next_eval is not None and self.solver.iteration >= next_eval:
                self._log_quality()
                next_eval += cfg.eval_interval
            if now >= next_progress:
                rate = (self.solver.iteration - rate_mark[1]) / max(now - rate_mark[0], 1e-9)
                rate_mark = (now, self.solver.iteration)
                log.info("%s", self._progress_line(rate, now - started, target, budget))
                next_progress = now + cfg.progress_interval
            if now >= next_snapshot:
                self._snapshot(now - started)
                next_snapshot = now + cfg.snapshot_interval_seconds
        elapsed = time.monotonic() - started
        log.info(
            "stopping (%s) after %s iterations in %s",
            stopped_by,
            f"{self.solver.iteration:,}",
            format_duration(self.elapsed_before + elapsed),
        )
        exploitability, value = self._log_quality()  # cached if the last chunk just evaluated
        snapshot = self._snapshot(elapsed, final=True)
        return TrainingResult(
            iterations=self.solver.iteration,
            elapsed_seconds=self.elapsed_before + elapsed,
            stopped_by=stopped_by,
            snapshot=snapshot,
            exploitability=exploitability,
            game_value=value,
        )

    def _warm_up(self) -> None:
        """Compile or load the kernels before the clock starts, and say which it was."""
        t0 = time.monotonic()
        self.solver.run(0)
        seconds = time.monotonic() - t0
        if seconds > 0.5:
            log.info("compiled the kernels in %.1f s (cached for later runs)", seconds)

    def _progress_line(
        self, rate: float, elapsed: float, target: int | None, budget: float | None
    ) -> str:
        it = self.solver.iteration
        parts = [f"it {it:,}" + (f"/{target:,}" if target else ""), f"{rate:,.0f} it/s"]
        total = self.elapsed_before + elapsed
        parts.append(
            f"elapsed {format_duration(total)}"
            + (f"/{format_duration(budget)}" if budget is not None else "")
        )
        remaining = []
        if target:
            remaining.append((target - it) / max(rate, 1e-9))
        if budget is not None:
            remaining.append(budget - total)
        if remaining:
            parts.append(f"eta {format_duration(max(0.0, min(remaining)))}")
        return "  ".join(parts)

    def _log_quality(self) -> tuple[float | None, float | None]:
        if self.evaluator is None:
            return None, None
        if self._quality is not None and self._quality[0] == self.solver.iteration:
            return self._quality[1], self._quality[2]
        policy = self.solver.average_policy()
        exploitability = self.evaluator.exploitability(policy)
        value = self.evaluator.game_value(policy)
        log.info(
            "iteration %s: exploitability %.6f chips/game, game value %.6f",
            f"{self.solver.iteration:,}",
            exploitability,
            value,
        )
        self._quality = (self.solver.iteration, exploitability, value)
        return exploitability, value

    def _snapshot(self, elapsed: float, final: bool = False) -> SnapshotInfo | None:
        name = snapshot_name(self.solver.iteration)
        if self.last_snapshot is not None and self.last_snapshot.name == name:
            return self.last_snapshot  # nothing new since the last one
        manifest = snapshot_manifest(
            self.config,
            self.game,
            iteration=self.solver.iteration,
            elapsed=self.elapsed_before + elapsed,
            rng_state=int(self.solver.rng[0]),
            sequence=self.snapshots_written,
        )
        arrays = {"regret": self.tables.regret, "strategy_sum": self.tables.strategy_sum}
        try:
            info = write_snapshot(self.run_dir, name, arrays, manifest)
        except SnapshotError as exc:
            # Keep training: the previous snapshot is intact, and the next interval retries.
            log.error("%s", exc)
            if final:
                raise
            return None
        self.snapshots_written += 1
        log.info(
            "snapshot written: %s (%s, %.2f s)", info.path, format_bytes(info.bytes), info.seconds
        )
        removed = prune_snapshots(
            self.run_dir, self.config.training.keep_snapshots, self.config.training.keep_every
        )
        if removed:
            log.debug("removed old snapshots: %s", ", ".join(removed))
        self.last_snapshot = info
        return info


def _limits_text(target: int | None, budget: float | None) -> str:
    limits = []
    if target:
        limits.append(f"{target:,} iterations")
    if budget is not None:
        limits.append(f"a {format_duration(budget)} budget")
    return "until " + " or ".join(limits)
