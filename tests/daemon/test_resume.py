"""Resuming a run: real supervisor, real workers, real snapshots.

* The snapshot's arrays are let go once the tables are in shared memory, by ``holdemd train``
  and by the daemon, which both keep the run's plan for the whole run (a 6-max snapshot is
  gigabytes, memory-mapped).
* A schedule point that falls due after the last check before a stop is applied once: at the
  stop, or by the resumed run (the snapshot records where its schedule was last checked).
* First-round averaging's pass for a run that never averaged is added once per run, not once
  per resumed segment (the snapshot records the passes made).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import re
import sys
import weakref
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from holdemd.cli import main
from holdemd.config.schema import Config, GameConfig, ScheduleConfig, SolverConfig, TrainingConfig
from holdemd.rundir.load import load_snapshot
from holdemd.service.daemon import Service, ServiceOptions
from holdemd.service.runs import start_run, stop_run
from holdemd.solver.lazy_tables import LazyTables
from holdemd.solver.tables import Tables
from holdemd.training.plan import build_run, plan_run
from holdemd.training.run import RunOptions, TrainingResult, TrainingRun
from holdemd.training.schedule_runner import row_streets
from tests.daemon.processes import Reaper

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(180),
]

BATCH = 500


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


def _leduc(
    tables: Literal["dense", "lazy"],
    iterations: int,
    schedule: ScheduleConfig | None = None,
    time_budget: float | None = None,
) -> Config:
    return Config(
        game=GameConfig(name="leduc"),
        solver=SolverConfig(seed=3, tables=tables),
        training=TrainingConfig(
            iterations=iterations,
            time_budget=time_budget,
            snapshot_interval="1h",
            eval_interval=0,
            batch_size=BATCH,
            tensorboard=False,
        ),
        # First-round averaging: a lazy snapshot holds a later streets' sums file too.
        schedule=schedule or ScheduleConfig(average="first_round", average_interval="1000it"),
    )


def _train(run_dir: Path, config: Config) -> TrainingResult:
    return asyncio.run(TrainingRun(config, run_dir, RunOptions(num_workers=1)).run())


def snapshot_mappings(run_dir: Path) -> list[str]:
    """The files of ``run_dir``'s snapshots this process has mapped."""
    snapshots = str((run_dir / "snapshots").resolve())
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return sorted({line.split()[-1] for line in maps if snapshots in line})


@pytest.mark.parametrize("tables", ["dense", "lazy"])
def test_the_snapshots_tables_are_let_go_once_they_are_in_shared_memory(
    tmp_path: Path, tables: Literal["dense", "lazy"]
) -> None:
    run_dir = tmp_path / "run"
    _train(run_dir, _leduc(tables, 2_000))
    plan = plan_run(None, {"training.iterations": 3_000}, resume=run_dir)
    assert plan.resume is not None
    loaded = plan.resume.tables.peek()
    gone = [weakref.ref(loaded.regret), weakref.ref(loaded.strategy_sum)]
    if tables == "lazy":
        assert snapshot_mappings(run_dir)  # the lazy snapshot's arrays are mapped, not read
    del loaded
    run = build_run(dataclasses.replace(plan, options=RunOptions(num_workers=1)))
    try:
        # The plan is still held (holdemd train and the daemon keep theirs): the arrays are not.
        assert [ref() for ref in gone] == [None, None]
        assert snapshot_mappings(run_dir) == []
    except BaseException:
        run.close()  # run() closes it when it ends
        raise
    assert asyncio.run(run.run()).iterations == 3_000


def test_holdemd_train_resume_keeps_no_snapshot_mapped_while_it_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    _train(run_dir, _leduc("lazy", 2_000))
    seen: list[list[str]] = []
    train = TrainingRun.run

    async def run(self: TrainingRun) -> TrainingResult:
        seen.append(snapshot_mappings(run_dir))
        return await train(self)

    monkeypatch.setattr(TrainingRun, "run", run)
    flags = ["--iterations", "3000", "--num-workers", "1", "--log-level", "warning"]
    assert main(["train", "--resume", str(run_dir), *flags]) == 0
    assert seen == [[]]


def test_the_daemon_resuming_a_run_keeps_no_snapshot_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    _train(run_dir, _leduc("lazy", 2_000))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    service = Service(ServiceOptions(state_dir=tmp_path / "state", runtime_dir=tmp_path / "rt"))

    async def resume_and_stop() -> list[str]:
        await start_run(service, None, {"iterations": 200_000}, run_dir, None)
        try:
            return snapshot_mappings(run_dir)
        finally:
            await stop_run(service, "test", keep_record=False)

    assert asyncio.run(resume_and_stop()) == []


def _resume(run_dir: Path, overrides: dict[str, object]) -> TrainingResult:
    plan = plan_run(None, overrides, resume=run_dir)
    return asyncio.run(
        build_run(dataclasses.replace(plan, options=RunOptions(num_workers=1))).run()
    )


DISCOUNT = re.compile(r"linear-CFR discount (\d+) at iteration")


def _discounts(caplog: pytest.LogCaptureFixture) -> list[int]:
    """The discount points applied, as logged (a line covers every point up to its number)."""
    found = [DISCOUNT.match(r.getMessage()) for r in caplog.records]
    caplog.clear()
    return [int(m.group(1)) for m in found if m is not None]


def test_a_discount_due_at_the_time_budget_is_applied_once_across_a_resume(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tick that finds the budget spent ends the main loop before it checks the schedule,
    and every check before it came earlier than the budget: a point at the budget was never
    applied, and the resumed run, starting past it, counted it as done."""
    run_dir = tmp_path / "run"
    caplog.set_level(logging.INFO, logger="holdemd.schedule")
    _train(run_dir, _leduc("dense", 0, ScheduleConfig(discount_interval=1.0), time_budget=1.0))
    first = _discounts(caplog)
    assert first, "the point at the 1 s budget was not applied before the final snapshot"
    # A budget the resumed run reaches past its own points (a loaded machine may have
    # stopped the first run late).
    trained = load_snapshot(run_dir).manifest["elapsed_seconds"]
    _resume(run_dir, {"training.time_budget": float(math.floor(trained) + 2)})
    second = _discounts(caplog)
    assert second and second[0] > first[-1], f"points applied twice: {first} then {second}"
    checked = load_snapshot(run_dir).manifest["schedule"]["checked_elapsed_seconds"]
    assert second[-1] == math.floor(checked)  # every point up to the last check, none after


def _average_passes(run_dir: Path) -> int:
    """Current-strategy snapshots summed into the later streets' rows of the latest snapshot:
    each adds a probability distribution to every row (no discounts here), so a row's sum
    counts them; lazy tables count them in their sums file's record."""
    loaded = load_snapshot(run_dir)
    stored = loaded.stored
    if isinstance(stored, LazyTables):
        assert stored.later is not None
        return stored.later.passes
    assert isinstance(stored, Tables)
    totals = stored.strategy_sum[row_streets(loaded.game) > 0].sum(axis=1)
    passes = round(float(totals[0]))
    np.testing.assert_allclose(totals, passes, rtol=1e-5)
    return passes


@pytest.mark.parametrize("tables", ["dense", "lazy"])
def test_a_resumed_segment_adds_no_averaging_pass_to_a_run_that_has_averaged(
    tmp_path: Path, tables: Literal["dense", "lazy"]
) -> None:
    """A point at 3,000 iterations; segments to 1,000, 2,000 and 4,000. The first never
    reached a point, so its end takes a snapshot (later streets must not stay uniform); the
    second has one already; the third reaches the point."""
    run_dir = tmp_path / "run"
    schedule = ScheduleConfig(average="first_round", average_interval="3000it")
    _train(run_dir, _leduc(tables, 1_000, schedule))
    assert _average_passes(run_dir) == 1
    _resume(run_dir, {"training.iterations": 2_000})
    assert _average_passes(run_dir) == 1
    _resume(run_dir, {"training.iterations": 4_000})
    assert _average_passes(run_dir) == 2  # the schedule's one, and the first segment's
