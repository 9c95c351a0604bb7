"""What a training run is given and what it gives back: its process options, the point a
resumed run starts from, and its result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holdemd.config.binder import dataclass_to_dict
from holdemd.config.schema import Config
from holdemd.protocol.worker import WorkerSpec
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.solver.lazy_tables import LazyTables
from holdemd.solver.schedule import ScheduleProgress
from holdemd.solver.tables import Tables
from holdemd.training.slots import DEFAULT_WORKER_COMMAND, Timeouts

log = logging.getLogger("holdemd.supervisor")

EventSink = Callable[[str, dict[str, Any]], None]  # (kind, data): see docs/control.md, Events


def no_events(kind: str, data: dict[str, Any]) -> None:
    pass


def log_progress(line: str) -> None:
    log.info("%s", line)


@dataclass(frozen=True)
class RunOptions:
    """How a run's processes are managed; what it trains (batch size, TensorBoard, ...) is its
    config's."""

    num_workers: int = 1  # the config's training.num_workers, 0 resolved to the cores
    timeouts: Timeouts = field(default_factory=Timeouts)
    status_interval: float = 2.0
    metrics_interval: float = 5.0
    stop_timeout: float = 60.0  # how long stopping workers may take to send their last batch
    handle_signals: bool = True  # SIGINT/SIGTERM stop the run (False: the service handles them)
    worker_command: tuple[str, ...] = DEFAULT_WORKER_COMMAND  # + --endpoint --slot --incarnation
    # Where the progress line goes: a log line by default; `holdemd train` in a terminal
    # draws it in place (cli.live_line).
    show_progress: Callable[[str], None] = log_progress
    # A multi-host run's head (holdemd.hosts): where `holdemd node`s connect (tcp://ADDR:PORT,
    # "" for a single-host run) and the CURVE key directory (`holdemd keys init`).
    listen: str = ""
    keys: Path | None = None
    # The head's nodes placed on this Ray cluster (hosts.ray_placement; "" for none).
    ray: str = ""


class SnapshotTables:
    """A resumed snapshot's tables, handed to the run once.

    The run copies them into shared memory (``run_start``) and ``take``s them from here, so
    that whoever keeps the resume point afterwards (``holdemd train`` keeps its plan for the
    whole run) does not keep the snapshot's arrays alive with it: a lazy snapshot's are
    memory-mapped, gigabytes of a 6-max run's files that would stay mapped until it ends.
    """

    def __init__(self, tables: Tables | LazyTables) -> None:
        self._tables: Tables | LazyTables | None = tables

    def peek(self) -> Tables | LazyTables:
        """The tables, still here (before a run has taken them)."""
        if self._tables is None:
            raise RuntimeError("the resumed snapshot's tables were handed to a run already")
        return self._tables

    def take(self) -> Tables | LazyTables:
        """The tables, let go of here: the caller holds the only reference."""
        tables = self.peek()
        self._tables = None
        return tables


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts: the tables and counters of a snapshot."""

    tables: SnapshotTables
    iteration: int
    elapsed: float
    sequence: int
    source: Path
    abstraction_digest: str | None = None
    skipped: tuple[str, ...] = ()  # newer snapshots that did not verify, each "name: why"
    schedule: ScheduleProgress | None = None  # None: a snapshot from before the record


@dataclass(frozen=True)
class TrainingResult:
    iterations: int
    elapsed_seconds: float
    stopped_by: str  # "iterations", "time budget" or "interrupted"
    snapshot: SnapshotInfo | None
    exploitability: float | None
    game_value: float | None


def worker_spec(config: Config, options: RunOptions, game_cache: str = "") -> WorkerSpec:
    """What every worker of the run runs (the Welcome's spec), each field once."""
    return WorkerSpec(
        game=dataclass_to_dict(config.game),
        buckets=config.abstraction.buckets,
        seed=config.solver.seed,
        linear=config.solver.linear_weighting,
        batch_size=config.training.batch_size,
        heartbeat_interval=options.timeouts.heartbeat_interval,
        # Other hosts' workers count as other workers (a multi-host run's head).
        lockstep=(options.num_workers == 1 and not options.listen) or config.training.deterministic,
        prediction=options.num_workers > 1 or bool(options.listen),
        game_cache=game_cache,
    )
