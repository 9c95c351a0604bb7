"""The run flags that override a config: one table, used by ``holdemd train``, ``holdemctl
start`` and the daemon's ``start`` command alike.

Each entry names the flag (``--time-budget``), the argument name it travels under in a control
request (``time_budget``, docs/control.md), the dotted config key it sets and how it is typed.
Both command lines build their flags from :data:`RUN_FLAGS` with :func:`add_run_flags`; the
daemon checks a request's ``overrides`` with :func:`dotted_overrides`. Standard library only:
the thin client imports it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from holdemd.durations import parse_duration
from holdemd.errors import UsageError

Kind = Literal["int", "duration", "text", "bool"]


@dataclass(frozen=True)
class RunFlag:
    name: str  # the argument name: flag --name-with-dashes, key of a request's overrides
    key: str  # the dotted config key it sets
    kind: Kind
    metavar: str | None
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


RUN_FLAGS: tuple[RunFlag, ...] = (
    RunFlag(
        "iterations",
        "training.iterations",
        "int",
        "N",
        "stop after N iterations in all (0 = no limit)",
    ),
    RunFlag(
        "time_budget",
        "training.time_budget",
        "duration",
        "DURATION",
        "stop after this much training time in all: seconds or e.g. 90s, 30m, 8h",
    ),
    RunFlag(
        "snapshot_interval",
        "training.snapshot_interval",
        "duration",
        "DURATION",
        "time between snapshots, e.g. 60 or 10m",
    ),
    RunFlag(
        "num_workers",
        "training.num_workers",
        "int",
        "N",
        "worker processes (0 = one per available core; 1 still uses one worker process)",
    ),
    RunFlag(
        "batch_size",
        "training.batch_size",
        "int",
        "N",
        "iterations per worker batch, i.e. how often workers send deltas",
    ),
    RunFlag(
        "tensorboard",
        "training.tensorboard",
        "bool",
        None,
        "write TensorBoard scalars under <run>/tensorboard (default: on)",
    ),
    RunFlag(
        "deterministic",
        "training.deterministic",
        "bool",
        None,
        "several workers: merge batches in rounds, in worker order, so that a run with a seed "
        "and --iterations is repeatable (costs throughput; one worker is always repeatable)",
    ),
    RunFlag(
        "buckets",
        "abstraction.buckets",
        "text",
        "SPEC",
        "card abstraction for holdem: quick, mid or a .npz file",
    ),
    RunFlag("seed", "solver.seed", "int", "S", "random seed (overrides solver.seed)"),
)
BY_NAME: dict[str, RunFlag] = {flag.name: flag for flag in RUN_FLAGS}


def _duration(text: str) -> str:
    """A duration as typed, checked now for a quick usage error (the config parses it again)."""
    try:
        parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


_TYPES: dict[Kind, Callable[[str], Any]] = {"int": int, "duration": _duration, "text": str}


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Add every run flag to ``parser``; each defaults to None ("not given")."""
    for flag in RUN_FLAGS:
        if flag.kind == "bool":
            parser.add_argument(
                flag.flag, action=argparse.BooleanOptionalAction, default=None, help=flag.help
            )
        else:
            parser.add_argument(
                flag.flag, type=_TYPES[flag.kind], metavar=flag.metavar, help=flag.help
            )


def given_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The run flags given on a command line, by name (what a ``start`` request carries)."""
    values = {flag.name: getattr(args, flag.name, None) for flag in RUN_FLAGS}
    return {name: value for name, value in values.items() if value is not None}


def dotted_overrides(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted config overrides from flag-named values; None means "not given".

    Raises UsageError naming the unknown names and the known ones.
    """
    unknown = sorted(str(name)[:40] for name in set(values) - BY_NAME.keys())
    if unknown:
        raise UsageError(f"unknown override(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return {BY_NAME[name].key: value for name, value in values.items() if value is not None}
