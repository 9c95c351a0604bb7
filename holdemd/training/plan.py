"""From a config, overrides and an optional resume point to a ready `TrainingRun`.

``holdemd train`` (flags) and ``holdemd serve`` (the control socket's ``start``) both start runs;
this is the one place that turns their request into a config, a run directory and a resume
point, with the same checks and the same one-line errors.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd.config.binder import apply_overrides
from holdemd.config.limits import SMALL_BATCH_SIZE
from holdemd.config.loader import load_config
from holdemd.config.schema import Config, TrainingConfig
from holdemd.errors import UsageError
from holdemd.games.cache import load_or_build
from holdemd.games.compiled import Game
from holdemd.games.memory_check import check_before_building
from holdemd.rundir.load import find_resume_snapshot, load_snapshot
from holdemd.rundir.manifest import check_resumable
from holdemd.rundir.store import latest_snapshot
from holdemd.training.litmus import run_scenarios
from holdemd.training.options import ResumePoint, RunOptions, SnapshotTables
from holdemd.training.run import TrainingRun

log = logging.getLogger("holdemd.plan")


@dataclass(frozen=True)
class RunPlan:
    config: Config
    run_dir: Path
    options: RunOptions
    source: str  # what to name in config errors: the file, or the resumed manifest
    resume: ResumePoint | None
    game: Game | None = None  # built already (loading the resumed snapshot builds it)


def plan_run(
    config_path: Path | None,
    overrides: dict[str, Any],
    *,
    resume: Path | None = None,
    resume_latest_in: Path | None = None,
    logdir: Path | None = None,
    runs_root: Path = Path("runs"),
) -> RunPlan:
    """Decide config, run directory and resume point; nothing is created on disk.

    A new run's tree is counted first (``memory_check.check_before_building``): one whose tree
    or tables would not fit in memory is refused before anything is built.

    ``resume`` is a run directory or snapshot to continue; ``resume_latest_in`` continues the
    same way from ``logdir`` when no path was given (``--resume`` alone).
    """
    where = resume or resume_latest_in
    point: ResumePoint | None = None
    game: Game | None = None
    if where is not None:
        run_dir, name = find_resume_snapshot(where)
        # The newest snapshot that verifies: a corrupt newest one (a crash mid-write on a
        # file system that lies about fsync, a bad disk) must not cost the whole run.
        loaded = load_snapshot(run_dir, name, fallback=True)
        saved = loaded.config
        config = (
            load_config(config_path, overrides)
            if config_path
            else apply_overrides(saved, overrides, source="command line")
        )
        check_resumable(saved, config, str(where))
        manifest = loaded.manifest
        point = ResumePoint(
            tables=SnapshotTables(loaded.stored),
            iteration=int(manifest["iteration"]),
            elapsed=float(manifest.get("elapsed_seconds", 0.0)),
            sequence=int(manifest.get("sequence", 0)),
            source=loaded.info.path,
            abstraction_digest=manifest.get("abstraction_digest"),
            skipped=loaded.skipped,
            schedule=loaded.schedule,
        )
        run_dir = logdir or run_dir
        source = str(config_path or loaded.info.path / "manifest.json")
        game = loaded.game  # check_resumable: same game and abstraction as the config's
    else:
        if config_path is None:
            raise UsageError("--config is required (or --resume to continue a run)")
        config = load_config(config_path, overrides)
        # Counted, not built: a tree or tables too big for memory are refused here in well
        # under a second, instead of after seconds and gigabytes of building.
        check_before_building(config, str(config_path))
        run_dir = logdir or new_run_dir(runs_root, config_path.stem)
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"--logdir {run_dir}: exists and is not a directory")
        existing = latest_snapshot(run_dir) if run_dir.is_dir() else None
        if existing is not None:
            raise UsageError(
                f"--logdir {run_dir}: already holds a run (latest snapshot {existing.name}); "
                f"continue it with --resume {run_dir}, or pass a new --logdir"
            )
        source = str(config_path)
    warn_if_small_batch(config)
    run_scenarios(config)  # a bad litmus scenarios file is refused before anything is made
    workers = config.training.num_workers or available_cores()
    options = RunOptions(num_workers=workers)
    return RunPlan(config, run_dir, options, source, point, game)


def warn_if_small_batch(config: Config) -> None:
    """One warning line for a batch size that works but slows training (the old trainer's
    habit was 100): every batch is a merge in the supervisor, the run's single writer."""
    batch = config.training.batch_size
    if batch >= SMALL_BATCH_SIZE:
        return
    default = TrainingConfig.batch_size
    # The cost quoted was measured for the old trainer's 100 against the default (issue 11).
    log.warning(
        "training.batch_size %s is small: the supervisor merges each worker's changes every %s "
        "iterations, %s times as often as at the default %s, so it works harder and training "
        "runs slower (a batch of 100 measured 6-10%% slower, with 4x the supervisor's work); "
        "use %s or more",
        f"{batch:,}",
        f"{batch:,}",
        f"{default / batch:g}",
        f"{default:,}",
        f"{SMALL_BATCH_SIZE:,}",
    )


def new_run_dir(root: Path, stem: str) -> Path:
    """``root/stem-YYYYmmdd-HHMMSS``, or with ``-2``, ``-3``... if that exists already (a run
    started, and maybe stopped, within the same second). Not created here: a mistake found
    while loading the game must not leave an empty run directory behind."""
    base = root / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate = base
    for n in itertools.count(2):
        if not candidate.exists():
            return candidate
        candidate = base.with_name(f"{base.name}-{n}")
    raise AssertionError("unreachable")


def plan_game(plan: RunPlan) -> Game:
    """The plan's game: the resumed snapshot's, or from the game cache, or built now (seconds
    for Hold'em, then cached)."""
    if plan.game is not None:
        return plan.game
    return load_or_build(plan.config.game, plan.config.abstraction.buckets)[0]


def build_run(plan: RunPlan, **kwargs: Any) -> TrainingRun:
    """The supervisor for ``plan``: builds the game unless the plan has it, checks the tables
    fit."""
    kwargs.setdefault("game", plan.game)
    return TrainingRun(
        plan.config,
        plan.run_dir,
        plan.options,
        config_source=plan.source,
        resume=plan.resume,
        **kwargs,
    )


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
