"""Lazily allocated tables through the daemon: real supervisor and workers, real snapshots.

Deterministic two-worker runs (batches merged in rounds, in slot order) must give the dense
run's tables bit for bit, so the exact checks on Leduc vouch for the lazy path; a lazy
snapshot must resume with the same allocation and go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from holdemd.config.schema import Config, GameConfig, ScheduleConfig, SolverConfig, TrainingConfig
from holdemd.rundir.load import load_snapshot
from holdemd.rundir.snapshots import FORMAT_VERSION
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks
from holdemd.solver.tables import Tables, average_strategy
from holdemd.training.plan import build_run, plan_run
from holdemd.training.run import RunOptions, TrainingRun
from tests.daemon.processes import Reaper

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(180),
]

ITERATIONS = 8_000
BATCH = 500


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


def _leduc(
    tables: Literal["dense", "lazy"], iterations: int = ITERATIONS, average_interval: str = "200m"
) -> Config:
    return Config(
        game=GameConfig(name="leduc"),
        solver=SolverConfig(seed=3, regret_dtype="int32", tables=tables),
        training=TrainingConfig(
            iterations=iterations,
            snapshot_interval="1h",
            eval_interval=0,
            batch_size=BATCH,
            tensorboard=False,
            deterministic=True,
        ),
        # Discounts and first-round averaging: the whole-table passes of both kinds.
        schedule=ScheduleConfig(
            discount_interval="2000it",
            discount_stop="6000it",
            average="first_round",
            average_interval=average_interval,
        ),
    )


def _run(run_dir: Path, config: Config) -> Tables | LazyTables:
    result = asyncio.run(TrainingRun(config, run_dir, RunOptions(num_workers=2)).run())
    assert result.stopped_by == "iterations" and result.iterations == config.training.iterations
    return load_snapshot(run_dir).stored


def test_lazy_tables_train_leduc_bit_for_bit_like_dense_ones(tmp_path):
    dense = _run(tmp_path / "dense", _leduc("dense"))
    lazy = _run(tmp_path / "lazy", _leduc("lazy"))
    assert isinstance(dense, Tables) and isinstance(lazy, LazyTables)
    loaded = load_snapshot(tmp_path / "lazy")
    assert loaded.manifest["tables"] == "lazy"
    assert loaded.manifest["format_version"] == FORMAT_VERSION
    as_dense = lazy.to_dense(loaded.game)
    np.testing.assert_array_equal(as_dense.regret, dense.regret)
    np.testing.assert_array_equal(as_dense.strategy_sum, dense.strategy_sum)
    exact = ExactEvaluator(loaded.game)
    value = exact.exploitability(average_strategy(loaded.game, as_dense.strategy_sum))
    assert value == exact.exploitability(average_strategy(loaded.game, dense.strategy_sum))
    assert value < 2.0  # it learned something (uniform play: 4.7)
    # Evaluation reads the snapshot as dense rows, converted.
    np.testing.assert_array_equal(loaded.tables.strategy_sum, dense.strategy_sum)


def test_a_lazy_snapshot_resumes_with_its_allocation(tmp_path):
    first = _run(tmp_path / "run", _leduc("lazy", iterations=4_000))
    assert isinstance(first, LazyTables)
    plan = plan_run(None, {"training.iterations": 7_000}, resume=tmp_path / "run")
    assert plan.resume is not None
    resumed = plan.resume.tables.peek()
    assert isinstance(resumed, LazyTables)
    np.testing.assert_array_equal(resumed.regret_at, first.regret_at)
    np.testing.assert_array_equal(resumed.used, first.used)
    run = build_run(dataclasses.replace(plan, options=RunOptions(num_workers=2)))
    result = asyncio.run(run.run())
    assert result.iterations == 7_000
    after = load_snapshot(tmp_path / "run").stored
    assert isinstance(after, LazyTables)
    # Blocks keep their place; new ones come after.
    kept = first.regret_at >= 0
    np.testing.assert_array_equal(after.regret_at[kept], first.regret_at[kept])
    assert (after.used >= first.used).all()


# Snapshots of the current strategy at 1,500, 3,000, ... iterations: several later-street
# averaging passes, one with a discount (6,000), each writing the lazy run's sums file.
AVERAGE_EVERY = "1500it"
KINDS: tuple[Literal["dense", "lazy"], ...] = ("dense", "lazy")


def _resumed(run_dir: Path, iterations: int) -> Tables | LazyTables:
    plan = plan_run(None, {"training.iterations": iterations}, resume=run_dir)
    run = build_run(dataclasses.replace(plan, options=RunOptions(num_workers=2)))
    assert asyncio.run(run.run()).iterations == iterations
    return load_snapshot(run_dir).stored


def test_later_street_sums_on_disk_equal_dense_ones_after_passes_and_a_resume(tmp_path):
    """Lazy runs keep the later streets' sums in a file, linked into each snapshot and
    resumed from it: the dense run's strategy sums bit for bit, before and after a resume."""
    first: dict[str, Tables | LazyTables] = {}
    for kind in KINDS:
        config = _leduc(kind, iterations=4_000, average_interval=AVERAGE_EVERY)
        first[kind] = _run(tmp_path / kind, config)
    lazy, dense = first["lazy"], first["dense"]
    assert isinstance(lazy, LazyTables) and isinstance(dense, Tables)
    game = load_snapshot(tmp_path / "lazy").game
    np.testing.assert_array_equal(lazy.to_dense(game).strategy_sum, dense.strategy_sum)
    later = lazy.later
    assert later is not None and later.passes == 2 and later.path is not None
    snapshot = load_snapshot(tmp_path / "lazy").info.path
    assert later.path == snapshot / "later_sums.npy"
    current = tmp_path / "lazy" / "later_sums" / "current.npy"
    assert current.samefile(later.path)  # linked, not copied
    blocks = NodeBlocks.of(game)  # no later-street sums in memory
    assert (lazy.strategy_at[blocks.decision_nodes[blocks.street > 0]] < 0).all()

    resumed = {kind: _resumed(tmp_path / kind, ITERATIONS) for kind in KINDS}
    lazy, dense = resumed["lazy"], resumed["dense"]
    assert isinstance(lazy, LazyTables) and isinstance(dense, Tables)
    np.testing.assert_array_equal(lazy.to_dense(game).strategy_sum, dense.strategy_sum)
    assert lazy.later is not None and lazy.later.passes == 5  # 4,500, 6,000 and 7,500 more
