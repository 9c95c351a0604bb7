"""The run flags: one table, and both command lines take exactly its flags."""

from __future__ import annotations

import argparse

import pytest
from holdemctl.parser import build_parser as holdemctl_parser

from holdemd.cli import build_parser as holdemd_parser
from holdemd.config.overrides import RUN_FLAGS, dotted_overrides, given_flags
from holdemd.errors import UsageError


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise AssertionError(name)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_both_command_lines_take_every_run_flag_from_the_one_table() -> None:
    flags = {flag.flag for flag in RUN_FLAGS}
    train = _options(_subparser(holdemd_parser(), "train"))
    start = _options(_subparser(holdemctl_parser(), "start"))
    assert flags <= train and flags <= start
    # What else each takes is not a config override.
    assert train - flags - {"--no-tensorboard", "--no-deterministic"} == {
        "-h",
        "--help",
        "--config",
        "--logdir",
        "--resume",
        "--log-level",
        # A multi-host head's process options (where nodes connect, their keys, Ray).
        "--listen",
        "--keys",
        "--ray",
    }
    assert start - flags - {"--no-tensorboard", "--no-deterministic"} >= {"--resume"}


def test_flags_parse_to_the_dotted_keys_they_override() -> None:
    args = _subparser(holdemd_parser(), "train").parse_args(
        ["--time-budget", "8h", "--seed", "7", "--no-tensorboard", "--buckets", "mid"]
    )
    assert dotted_overrides(given_flags(args)) == {
        "training.time_budget": "8h",
        "solver.seed": 7,
        "training.tensorboard": False,
        "abstraction.buckets": "mid",
    }


def test_an_unknown_override_is_one_line_naming_the_known_ones() -> None:
    with pytest.raises(UsageError) as info:
        dotted_overrides({"time_budget": "1h", "speed": 11})
    message = str(info.value)
    assert message.startswith("unknown override(s) speed; known: iterations, time_budget,")
    assert "\n" not in message


def test_a_bad_duration_is_a_usage_error_on_both_command_lines(capsys) -> None:
    for parser, command in ((holdemd_parser(), "train"), (holdemctl_parser(), "start")):
        with pytest.raises(SystemExit) as info:
            _subparser(parser, command).parse_args(["--time-budget", "soon"])
        assert info.value.code == 2
    assert (
        capsys.readouterr().err.count("error: argument --time-budget: 'soon' is not a duration")
        == 2
    )
