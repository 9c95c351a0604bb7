"""Real workers take their game from the supervisor's game cache, and train exactly as before.

Two deterministic two-worker Leduc runs (rounds merged in slot order: bit-for-bit repeatable):
one with the cache off (every worker builds the game, the old way), one with it on and worker
processes in which building a game raises. Same tables, one cache entry. The reaper checks
that every process is gone.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np
import pytest

from holdemd.config.schema import Config, GameConfig, SolverConfig, TrainingConfig
from holdemd.games import cache
from holdemd.rundir.store import latest_snapshot
from holdemd.training.run import RunOptions, TrainingRun
from holdemd.training.slots import DEFAULT_WORKER_COMMAND
from tests.daemon.processes import Reaper

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(120),
]

ITERATIONS = 20_000
BATCH = 500

# The real worker, except that building a game fails: it can only have come from the cache.
NEVER_BUILDS = (
    sys.executable,
    "-c",
    "import runpy, holdemd.games.cache as c\n"
    "def refuse(*args, **kwargs):\n"
    "    raise RuntimeError('the worker built the game instead of mapping the cache')\n"
    "c.build_game = refuse\n"
    "runpy.run_module('holdemd.worker', run_name='__main__', alter_sys=True)\n",
)


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts processes: the reaper checks each one cleans up."""


def _leduc() -> Config:
    return Config(
        game=GameConfig(name="leduc"),
        solver=SolverConfig(seed=5),
        training=TrainingConfig(
            iterations=ITERATIONS,
            snapshot_interval="1h",
            eval_interval=0,
            batch_size=BATCH,
            tensorboard=False,
            deterministic=True,
        ),
    )


def _tables(run_dir: Path, command: tuple[str, ...]) -> dict[str, np.ndarray]:
    options = RunOptions(num_workers=2, worker_command=command)
    run = TrainingRun(_leduc(), run_dir, options)
    result = asyncio.run(run.run())
    assert result.stopped_by == "iterations" and result.iterations == ITERATIONS
    snapshot = latest_snapshot(run_dir)
    assert snapshot is not None
    return {name: np.load(snapshot.path / f"{name}.npy") for name in ("regret", "strategy_sum")}


def test_workers_map_the_cached_game_and_train_exactly_as_when_they_built_it(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, "off")
    built = _tables(tmp_path / "built", DEFAULT_WORKER_COMMAND)

    root = tmp_path / "games"
    monkeypatch.setenv(cache.ENV_VAR, str(root))
    mapped = _tables(tmp_path / "mapped", NEVER_BUILDS)

    assert len(list(root.glob("*.json"))) == 1
    for name in ("regret", "strategy_sum"):
        assert built[name].any()
        assert np.array_equal(built[name], mapped[name]), name
