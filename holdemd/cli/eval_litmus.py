"""``holdemd eval --litmus``: the litmus scenarios on a run, a snapshot or a blueprint file, as
a pass/fail table with diagnoses or as JSON; exit code 1 if any scenario fails."""

from __future__ import annotations

import argparse
import json
from typing import Any

from holdemd.errors import ExitCode, UsageError
from holdemd.evaluation.litmus import LitmusReport, ScenarioResult, load_scenarios, run_litmus
from holdemd.evaluation.litmus.reader import default_path
from holdemd.evaluation.litmus.scenarios import percent

# Flags of the other evaluations, refused with --litmus: (flag, attribute).
_OTHER_FLAGS = (
    ("--vs", "vs"),
    ("--lbr", "lbr"),
    ("--curve", "curve"),
    ("--hands", "hands"),
    ("--actions", "actions"),
    ("--lbr-bets", "lbr_bets"),
    ("--lbr-preflop", "lbr_preflop"),
    ("--lbr-hands", "lbr_hands"),
    ("--plot", "plot"),
)


def refuse_litmus_flags(args: argparse.Namespace) -> None:
    """Another evaluation: ``--blueprint`` and ``--scenarios`` belong to ``--litmus``."""
    if args.scenarios is not None:
        raise UsageError(f"--scenarios {args.scenarios}: scenarios are for --litmus; add it")
    if args.blueprint is not None:
        raise UsageError(
            f"--blueprint {args.blueprint}: only --litmus reads a blueprint file; the other "
            "evaluations read --run DIR"
        )
    if args.run is None:
        raise UsageError("--run DIR is required (or --litmus --blueprint FILE)")


def run_litmus_command(args: argparse.Namespace) -> int:
    from holdemd.cli.common import open_blueprint_source
    from holdemd.evaluation.setup import resolve_snapshot_name

    for flag, name in _OTHER_FLAGS:
        if getattr(args, name) not in (None, False):
            raise UsageError(f"{flag} is another evaluation; run it without --litmus")
    if (args.run is None) == (args.blueprint is None):
        raise UsageError("--litmus reads --run DIR (a run or a snapshot) or --blueprint FILE")
    scenarios = load_scenarios(args.scenarios)
    if args.run is not None:
        args.snapshot = resolve_snapshot_name(args.run, args.snapshot)
    blueprint = open_blueprint_source(args)
    report = run_litmus(blueprint, scenarios)
    files = sorted({s.source for s in scenarios}, key=lambda f: f != str(default_path()))
    if args.json:
        print(
            json.dumps(
                {
                    "source": str(blueprint.source),
                    "game": blueprint.name,
                    "snapshot": blueprint.snapshot,
                    "iteration": blueprint.iteration,
                    "scenario_files": files,
                    **report.as_dict(),
                }
            )
        )
    else:
        print(blueprint.describe())
        print(f"scenarios: {', '.join(files)}")
        for line in litmus_lines(report):
            print(line)
    return ExitCode.FAILURE if report.failed else ExitCode.OK


def litmus_lines(report: LitmusReport) -> list[str]:
    """The table: one row per scenario for this game, its decision and diagnosis under a
    failure, and a count line."""
    shown = [r for r in report.results if r.applies]
    width = max((len(r.scenario.name) for r in shown), default=8)
    expect_width = max((len(r.scenario.expect.describe()) for r in shown), default=11)
    lines = [f"{'result':<6}  {'scenario':<{width}}  {'expectation':<{expect_width}}  hands"]
    for result in shown:
        lines.append(
            f"{_mark(result):<6}  {result.scenario.name:<{width}}  "
            f"{result.scenario.expect.describe():<{expect_width}}  {_hands(result)}"
        )
        if result.status == "fail":
            pad = " " * 8
            lines += [f"{pad}{result.situation}", f"{pad}{result.detail}"]
    other = report.other_games
    counts = f"{report.passed} of {report.total} passed"
    if report.failed:
        counts += f", {report.failed} failed ({', '.join(report.failing)})"
    if report.skipped:
        counts += f", {report.skipped} skipped"
    if other:
        counts += f"; {other} for other games"
    lines.append(f"{counts} ({1000 * report.seconds:.1f} ms)")
    return lines


def _mark(result: ScenarioResult) -> str:
    return {"pass": "pass", "fail": "FAIL", "skip": "skip"}[result.status]


def _hands(result: ScenarioResult) -> str:
    if result.status == "skip" and not any(h.ok is not None for h in result.hands):
        return f"({result.detail})"
    parts: list[Any] = []
    for hand in result.hands:
        shown = "untrained" if hand.probability is None else percent(hand.probability)
        parts.append(f"{hand.hand} {shown}")
    return ", ".join(parts)
