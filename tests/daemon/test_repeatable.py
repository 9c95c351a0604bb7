"""Repeatable runs: the same seed and iteration target give the same tables, bit for bit.

One worker always: each batch waits for its merge before the next starts, so nothing the
worker reads depends on when the supervisor merged (before issue 14 it read its last batch
twice or once depending on that timing: three runs of one command gave strategy sums apart
by up to 2,476). Several workers with ``training.deterministic``: batches go in rounds,
merged in slot order. Real supervisor and worker processes; the reaper checks they are gone.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np
import pytest

from holdemd.config.schema import Config, GameConfig, SolverConfig, TrainingConfig
from holdemd.rundir.store import latest_snapshot
from holdemd.training.run import RunOptions, TrainingRun
from tests.daemon.processes import Reaper

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(120),
]

ITERATIONS = 30_000
BATCH = 500  # 60 merges: a timing-dependent view would show within a few


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


def _kuhn(*, deterministic: bool = False) -> Config:
    return Config(
        game=GameConfig(name="kuhn"),
        solver=SolverConfig(seed=7),
        training=TrainingConfig(
            iterations=ITERATIONS,
            snapshot_interval="1h",
            eval_interval=0,
            batch_size=BATCH,
            tensorboard=False,
            deterministic=deterministic,
        ),
    )


def _tables(run_dir: Path, config: Config, workers: int) -> dict[str, np.ndarray]:
    result = asyncio.run(TrainingRun(config, run_dir, RunOptions(num_workers=workers)).run())
    # Every batch merged has its full size and the run stops at the merge reaching the target
    # (with rounds: the round reaching it), so the count is exact.
    assert result.stopped_by == "iterations" and result.iterations == ITERATIONS
    snapshot = latest_snapshot(run_dir)
    assert snapshot is not None
    assert snapshot.iteration == result.iterations
    return {name: np.load(snapshot.path / f"{name}.npy") for name in ("regret", "strategy_sum")}


def _assert_same(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> None:
    for name in ("regret", "strategy_sum"):
        assert first[name].any()
        difference = np.abs(first[name].astype(np.float64) - second[name]).max()
        assert np.array_equal(first[name], second[name]), f"{name}: up to {difference:g} apart"


def test_two_one_worker_runs_with_the_same_seed_give_identical_tables(tmp_path):
    first = _tables(tmp_path / "a", _kuhn(), workers=1)
    second = _tables(tmp_path / "b", _kuhn(), workers=1)
    _assert_same(first, second)


def test_two_deterministic_two_worker_runs_give_identical_tables(tmp_path):
    first = _tables(tmp_path / "a", _kuhn(deterministic=True), workers=2)
    second = _tables(tmp_path / "b", _kuhn(deterministic=True), workers=2)
    _assert_same(first, second)
