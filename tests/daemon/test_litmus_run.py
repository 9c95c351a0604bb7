"""Litmus during real training runs (Leduc, one real worker): the verdict at every snapshot lands
in status.json, TensorBoard and the log; it is off by default outside Hold'em; an error in it
is logged once and the run goes on."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import holdemd.training.litmus as litmus_module
from holdemd.config.schema import Config, GameConfig, TrainingConfig
from holdemd.errors import ConfigError
from holdemd.rundir.status import read_status
from holdemd.training import metrics as tags
from holdemd.training.run import RunOptions, TrainingResult, TrainingRun
from holdemd.training.slots import Timeouts
from tests.daemon.processes import Reaper

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(120),
]

WRONG = """\
scenarios:
  - name: leduc-pair-folds
    games: leduc
    seat: P1
    history: r
    hands: K
    expect: {action: fold, at_least: 0.5}
    diagnosis: "{hand} folds only {probability} (deliberately wrong)"
"""


@pytest.fixture(autouse=True)
def _reap(reaper: Reaper) -> None:
    """Every test here starts a worker process: the reaper checks each one cleans up."""


def _leduc(**training: object) -> Config:
    values: dict[str, object] = {
        "iterations": 100_000,
        "snapshot_interval": "1h",
        "batch_size": 2000,
        "tensorboard": True,
        **training,
    }
    return Config(game=GameConfig(name="leduc"), training=TrainingConfig(**values))  # type: ignore[arg-type]


def _train(run_dir: Path, config: Config) -> TrainingResult:
    options = RunOptions(num_workers=1, timeouts=Timeouts(), status_interval=0.2)
    return asyncio.run(TrainingRun(config, run_dir, options).run())


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_the_verdict_reaches_status_tensorboard_and_the_log(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="holdemd")
    scenarios = tmp_path / "wrong.yaml"
    scenarios.write_text(WRONG)
    run_dir = tmp_path / "run"
    result = _train(run_dir, _leduc(litmus=True, litmus_scenarios=str(scenarios)))
    assert result.snapshot is not None

    status = read_status(run_dir)
    assert status["state"] == "finished"
    assert status["litmus"] == {
        "passed": 1,
        "failed": 1,
        "skipped": 0,
        "total": 2,
        "failing": ["leduc-pair-folds"],
        "iteration": result.iterations,
        "snapshot": result.snapshot.name,
    }
    messages = _messages(caplog)
    line = f"litmus at iteration {result.iterations:,}: 1 of 2 scenarios pass; failing: leduc-pair-folds"
    assert messages.count(line) == 1
    diagnoses = [m for m in messages if m.startswith("litmus leduc-pair-folds fails: ")]
    assert len(diagnoses) == 1
    assert re.fullmatch(
        r"litmus leduc-pair-folds fails: K folds only [\d.]+% \(deliberately wrong\)", diagnoses[0]
    )
    accumulator = EventAccumulator(str(run_dir / "tensorboard"))
    accumulator.Reload()
    values = {
        tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
        for tag in (tags.LITMUS_PASSED, tags.LITMUS_FAILED)
    }
    assert values == {
        tags.LITMUS_PASSED: [(result.iterations, 1.0)],
        tags.LITMUS_FAILED: [(result.iterations, 1.0)],
    }


def test_off_by_default_outside_holdem(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="holdemd")
    run_dir = tmp_path / "run"
    _train(run_dir, _leduc(iterations=20_000, tensorboard=False))
    assert read_status(run_dir)["litmus"] is None
    assert not [m for m in _messages(caplog) if m.startswith("litmus")]


def test_an_error_in_litmus_is_logged_once_and_training_goes_on(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="holdemd")

    def broken(*args: object) -> None:
        raise RuntimeError("injected litmus fault")

    monkeypatch.setattr(litmus_module, "run_litmus", broken)
    run_dir = tmp_path / "run"
    config = _leduc(iterations=0, time_budget=3, snapshot_interval=0.5, litmus=True)
    result = _train(run_dir, config)
    assert result.stopped_by == "time budget" and result.snapshot is not None

    status = read_status(run_dir)
    assert status["state"] == "finished" and status["reason"] is None
    assert status["litmus"] == {
        "error": "RuntimeError: injected litmus fault",
        "iteration": result.iterations,
        "snapshot": result.snapshot.name,
    }
    snapshots = [m for m in _messages(caplog) if m.startswith("snapshot written: ")]
    errors = [m for m in _messages(caplog) if m.startswith("litmus")]
    assert len(snapshots) >= 3
    assert len(errors) == 1 and re.fullmatch(
        r"litmus at iteration [\d,]+ could not run \(RuntimeError: injected litmus fault\); "
        r"training goes on, and later failures are not logged",
        errors[0],
    )


def test_a_bad_scenarios_file_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - {name: x, games: [leduc], hands: [A]}\n")
    with pytest.raises(ConfigError) as error:
        TrainingRun(_leduc(litmus_scenarios=str(bad)), tmp_path / "run", RunOptions(num_workers=1))
    assert str(error.value) == (
        f"{bad}: scenarios[0].expect: missing; every scenario needs name, games, hands, "
        "expect, diagnosis"
    )
    assert not (tmp_path / "run").exists()
