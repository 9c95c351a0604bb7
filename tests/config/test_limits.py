"""Every config number has a range, checked at load: a bad value is one line naming the file,
the key and the range, exit code 2, and no run directory."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from holdemd.cli import main
from holdemd.config import limits
from holdemd.config.loader import load_config
from holdemd.config.schema import Config
from holdemd.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _fields(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field, set[type]]]:
    """(dotted key, field, the scalar types it accepts) of every leaf of the schema."""
    found = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            found += _fields(tp, f"{prefix}{f.name}.")
        else:
            found.append((prefix + f.name, f, set(typing.get_args(tp) or (tp,))))
    return found


def test_every_number_in_the_schema_has_a_documented_range():
    numbers = [
        (k, f) for k, f, types in _fields(Config) if {int, float} & types and str not in types
    ]
    assert len(numbers) >= 20  # the walk found the schema's numbers
    unbounded = [key for key, f in numbers if "min" not in f.metadata or "max" not in f.metadata]
    assert unbounded == []


def test_every_duration_in_the_schema_refuses_infinity(tmp_path):
    # Durations and schedule points (600, 10m, 5000000it) are numbers or strings, checked in
    # __post_init__ rather than by min/max.
    durations = [key for key, _, types in _fields(Config) if {float, str} <= types]
    assert len(durations) >= 7
    for key in durations:
        section, name = key.split(".")
        path = _write(tmp_path, f"{KUHN}{section}:\n  {name}: .inf\n")
        with pytest.raises(ConfigError, match=rf"section '{section}': {name} must be between 0"):
            load_config(path)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    return path


HOLDEM = "game:\n  name: holdem\n"
KUHN = "game:\n  name: kuhn\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            KUHN + "training:\n  iterations: 99999999999999999999\n",
            "key 'training.iterations' must be between 0 and 4,611,686,018,427,387,904, "
            "got 99999999999999999999 — stop after this many iterations; 0 = no limit",
        ),
        (
            KUHN + "solver:\n  seed: 18446744073709551616\n",
            "key 'solver.seed' must be between 0 and 9,223,372,036,854,775,807, "
            "got 18446744073709551616",
        ),
        (
            KUHN + "training:\n  batch_size: 3000000000\n",
            "key 'training.batch_size' must be between 1 and 10,000,000, got 3000000000",
        ),
        (
            HOLDEM + "  stack_bb: .inf\n",
            "key 'game.stack_bb' must be between 1.0 and 10000.0, got inf",
        ),
        (HOLDEM + "  ante_bb: .inf\n", "key 'game.ante_bb' must be between 0.0 and 10.0, got inf"),
        (
            HOLDEM + "  stack_bb: 1.5\n  ante_bb: 0.5\n",
            "section 'game': stack_bb 1.5 must be more than the big blind plus the ante (1.5 bb)",
        ),
        (
            HOLDEM + "  bet_sizes:\n    flop: [[" + ", ".join(["0.5"] * 399) + "]]\n",
            "section 'game.bet_sizes': flop[0] lists 399 sizes; at most 16 per raise depth",
        ),
        (
            HOLDEM + "  bet_sizes:\n    turn: [" + ", ".join(["[1.0]"] * 21) + "]\n",
            "section 'game.bet_sizes': turn lists 21 raise depths; at most 20",
        ),
        (
            KUHN + "training:\n  time_budget: .nan\n",
            "section 'training': time_budget must be between 0 and 366 days (31,622,400 s), "
            "got nan",
        ),
        (
            KUHN + "training:\n  iterations: 0\n  time_budget: 99999999h\n",
            "section 'training': time_budget must be between 0 and 366 days",
        ),
        (
            KUHN + "training:\n  snapshot_interval: soon\n",
            "section 'training': snapshot_interval: 'soon' is not a duration",
        ),
        (
            KUHN + "training:\n  progress_interval: .inf\n",
            "key 'training.progress_interval' must be between 0.1 and 86400.0, got inf",
        ),
        (
            KUHN + "schedule:\n  prune_start: 1e400it\n",
            "section 'schedule': prune_start must be at most 4,611,686,018,427,387,904 "
            "iterations, got inf",
        ),
        (
            KUHN + "schedule:\n  discount_interval: .inf\n",
            "section 'schedule': discount_interval must be between 0 and 366 days",
        ),
        (
            KUHN + "schedule:\n  prune_threshold: -.inf\n",
            "key 'schedule.prune_threshold' must be between -1000000000.0 and 0.0, got -inf",
        ),
        (
            KUHN + "training:\n  quality_deals: 100000000000\n",
            "key 'training.quality_deals' must be between 2 and 10,000,000",
        ),
    ],
)
def test_an_out_of_range_value_is_refused_at_load(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--iterations", str(2**64)],
            "command line: key 'training.iterations' must be between 0 and "
            "4,611,686,018,427,387,904",
        ),
        (["--seed", str(2**64)], "command line: key 'solver.seed' must be between 0 and"),
        (
            ["--batch-size", "3000000000"],
            "command line: key 'training.batch_size' must be between 1 and 10,000,000",
        ),
    ],
)
def test_train_refuses_out_of_range_flags_before_starting(tmp_path, capsys, flags, message):
    run = tmp_path / "run"
    config = str(ROOT / "configs" / "kuhn.yaml")
    assert main(["train", "--config", config, "--logdir", str(run), *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"holdemd: {message}")
    assert not run.exists()


def test_train_refuses_an_infinite_stack_before_starting(tmp_path, capsys):
    path = _write(tmp_path, HOLDEM + "  stack_bb: .inf\n")
    run = tmp_path / "run"
    assert main(["train", "--config", str(path), "--logdir", str(run)]) == 2
    assert capsys.readouterr().err == (
        f"holdemd: {path}: key 'game.stack_bb' must be between 1.0 and 10000.0, got inf — "
        "starting stack in big blinds\n"
    )
    assert not run.exists()


def test_the_limits_admit_every_shipped_config():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        config = load_config(path)
        assert config.training.batch_size <= limits.MAX_BATCH_SIZE
