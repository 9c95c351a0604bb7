"""Choosing a run directory; warning about a batch size that slows training."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from holdemd.cli import main
from holdemd.training.plan import new_run_dir, plan_run

KUHN = Path(__file__).resolve().parents[2] / "configs" / "kuhn.yaml"


def test_a_run_started_in_the_same_second_as_another_gets_its_own_directory(tmp_path) -> None:
    first = new_run_dir(tmp_path, "leduc")
    assert not first.exists()  # named, not created: a failed start leaves nothing behind
    first.mkdir()
    second = new_run_dir(tmp_path, "leduc")
    second.mkdir()
    third = new_run_dir(tmp_path, "leduc")
    if first.name.split("-")[1:3] == third.name.split("-")[1:3]:  # still the same second
        assert (second.name, third.name) == (f"{first.name}-2", f"{first.name}-3")
    assert len({first, second, third}) == 3


SMALL_BATCH_WARNING = (
    "training.batch_size 100 is small: the supervisor merges each worker's changes every 100 "
    "iterations, 20 times as often as at the default 2,000, so it works harder and training "
    "runs slower (a batch of 100 measured 6-10% slower, with 4x the supervisor's work); use "
    "1,000 or more"
)


def test_a_small_batch_size_is_one_warning_line(tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="holdemd"):
        plan_run(KUHN, {"training.batch_size": 100}, logdir=tmp_path / "run")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, SMALL_BATCH_WARNING)
    ]


@pytest.mark.parametrize("batch_size", [1_000, 2_000, 100_000])
def test_a_usual_batch_size_is_not_warned_about(tmp_path, caplog, batch_size) -> None:
    with caplog.at_level(logging.WARNING, logger="holdemd"):
        plan_run(KUHN, {"training.batch_size": batch_size}, logdir=tmp_path / "run")
    assert caplog.records == []


def test_train_shows_the_small_batch_warning(tmp_path, capsys) -> None:
    args = ["train", "--config", str(KUHN), "--logdir", str(tmp_path / "run")]
    flags = ["--batch-size", "100", "--iterations", "200", "--num-workers", "1"]
    assert main([*args, *flags, "--no-tensorboard"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "batch_size" in line]
    assert len(warnings) == 1 and warnings[0].endswith(SMALL_BATCH_WARNING)
