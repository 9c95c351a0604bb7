"""The schedule across a snapshot and a resume: the snapshot records how far the schedule got
(where it was last checked, the averaging snapshots made), and the resumed run goes on from
there. Real tables, a real snapshot written and loaded back; no workers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdemd.config.schema import Config, GameConfig, ScheduleConfig, SolverConfig
from holdemd.errors import SnapshotError
from holdemd.games.factory import build_game
from holdemd.rundir.load import LoadedSnapshot, load_snapshot
from holdemd.rundir.snapshot_read import read_manifest
from holdemd.rundir.snapshots import MANIFEST_CHECKSUM, manifest_checksum
from holdemd.solver.lazy_tables import LazyTables
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.schedule import ScheduleProgress
from holdemd.solver.tables import Tables
from holdemd.training.schedule_runner import ScheduleRunner
from holdemd.training.snapshotter import Snapshotter

GAME = build_game(GameConfig(name="leduc"))
# Iteration points: a discount and a current-strategy snapshot every 1,000 iterations.
CONFIG = Config(
    game=GameConfig(name="leduc"),
    solver=SolverConfig(seed=3),
    schedule=ScheduleConfig(
        discount_interval="1000it", average="first_round", average_interval="1000it"
    ),
)


def _trained(kind: str = "dense") -> Tables | LazyTables:
    tables = (Tables if kind == "dense" else LazyTables).zeros(GAME, "float64")
    solver = ExternalSamplingMCCFR(GAME, tables, seed=4)
    solver.average_streets = 1
    solver.run(300)
    return tables


def _snapshot(run_dir: Path, runner: ScheduleRunner, iteration: int) -> LoadedSnapshot:
    snapshotter = Snapshotter(
        run_dir,
        CONFIG,
        GAME,
        runner.tables,
        sequence=0,
        last=None,
        on_problem=lambda reason: None,
        on_event=lambda kind, data: None,
        progress=runner.progress,
    )
    assert asyncio.run(snapshotter.write(iteration, 9.0, 1, runner.finish)) is not None
    return load_snapshot(run_dir)


def _resumed(run_dir: Path, loaded: LoadedSnapshot) -> ScheduleRunner:
    iteration = int(loaded.manifest["iteration"])
    elapsed = float(loaded.manifest["elapsed_seconds"])
    return ScheduleRunner(
        CONFIG,
        GAME,
        loaded.stored,
        1.0,
        elapsed=elapsed,
        iteration=iteration,
        run_dir=run_dir,
        progress=loaded.schedule,
    )


def test_an_iteration_point_due_after_the_last_check_is_applied_by_the_resumed_run(
    tmp_path: Path,
) -> None:
    """The last check at 900 iterations; the snapshot at 1,000 (merged, never checked): the
    point at 1,000 is not in the tables, and the resumed run applies it once, at its first
    check, rather than counting it as done from the snapshot's iteration."""
    runner = ScheduleRunner(
        CONFIG, GAME, _trained(), 1.0, elapsed=0.0, iteration=0, run_dir=tmp_path
    )
    assert runner.apply(5.0, 900) is None
    loaded = _snapshot(tmp_path, runner, 1_000)
    assert loaded.schedule == ScheduleProgress(5.0, 900, 0)
    stored = loaded.stored
    assert isinstance(stored, Tables)
    before = Tables(stored.regret.copy(), stored.strategy_sum.copy())

    resumed = _resumed(tmp_path, loaded)
    assert resumed.schedule.discounts_done == 0 and resumed.average_snapshots == 0
    resumed.apply(9.0, 1_000)
    resumed.finish()
    assert resumed.schedule.discounts_done == 1 and resumed.average_snapshots == 1
    np.testing.assert_array_equal(stored.regret, before.regret * 0.5)
    resumed.apply(9.5, 1_500)  # nothing more until 2,000
    assert resumed.schedule.discounts_done == 1 and resumed.average_snapshots == 1
    assert resumed.progress() == ScheduleProgress(9.5, 1_500, 1)


@pytest.mark.parametrize("kind", ["dense", "lazy"])
def test_a_run_that_has_averaged_takes_no_snapshot_at_the_end_of_a_resumed_segment(
    tmp_path: Path, kind: str
) -> None:
    runner = ScheduleRunner(
        CONFIG, GAME, _trained(kind), 1.0, elapsed=0.0, iteration=0, run_dir=tmp_path
    )
    runner.before_the_end(300)  # a run that never reached a point: one snapshot
    assert runner.average_snapshots == 1
    resumed = _resumed(tmp_path, _snapshot(tmp_path, runner, 300))
    resumed.apply(9.0, 600)
    resumed.before_the_end(600)  # has averaged already: none
    assert resumed.average_snapshots == 1
    if kind == "lazy":
        assert isinstance(resumed.tables, LazyTables) and resumed.tables.later is not None
        assert resumed.tables.later.passes == 1


def test_a_snapshot_without_the_record_resumes_as_it_did(tmp_path: Path) -> None:
    """Written before the record: the points before its position count as done, and its
    averaging snapshots are the points behind it (a lazy run's sums file counts its own)."""
    runner = ScheduleRunner(
        CONFIG, GAME, _trained(), 1.0, elapsed=0.0, iteration=0, run_dir=tmp_path
    )
    runner.apply(9.0, 2_500)
    runner.finish()
    path = _snapshot(tmp_path, runner, 2_500).info.path
    _edit_manifest(path, lambda manifest: manifest.pop("schedule"))
    loaded = load_snapshot(tmp_path)
    assert loaded.schedule is None
    resumed = _resumed(tmp_path, loaded)
    assert resumed.schedule.discounts_done == 2 and resumed.average_snapshots == 2


def test_a_malformed_record_is_refused_in_one_line(tmp_path: Path) -> None:
    runner = ScheduleRunner(
        CONFIG, GAME, _trained(), 1.0, elapsed=0.0, iteration=0, run_dir=tmp_path
    )
    path = _snapshot(tmp_path, runner, 300).info.path
    _edit_manifest(path, lambda manifest: manifest["schedule"].update(checked_iteration=-1))
    with pytest.raises(SnapshotError) as info:
        load_snapshot(tmp_path)
    assert str(info.value) == (
        f"{path}: manifest.json 'schedule' checked_iteration -1 is not a count"
    )


def _edit_manifest(path: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    """Change a snapshot's manifest, its checksum kept valid (a snapshot of another version)."""
    manifest = read_manifest(path)
    edit(manifest)
    manifest[MANIFEST_CHECKSUM] = manifest_checksum(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
