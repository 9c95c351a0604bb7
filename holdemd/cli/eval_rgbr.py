"""``holdemd eval --rgbr``: a snapshot's real-game best response, as text or JSON (what it
measures is ``evaluation.rgbr``)."""

from __future__ import annotations

import argparse
import json

from holdemd.errors import ExitCode, UsageError
from holdemd.evaluation.policies import blueprint_policy, row_probabilities
from holdemd.evaluation.rgbr import (
    DEFAULT_RGBR_BOARDS,
    STREETS,
    check_rgbr_game,
    rgbr_description,
    rgbr_estimate,
)
from holdemd.evaluation.setup import progress, resolve_snapshot_name
from holdemd.evaluation.stats import Unit
from holdemd.rundir.load import load_snapshot
from holdemd.solver.exact import ExactEvaluator, can_enumerate

SEATS = {"seat0": "as BTN (seat 0)", "seat1": "as BB (seat 1)"}


def check_boards(boards: int | None) -> int:
    if boards is None:
        return DEFAULT_RGBR_BOARDS
    if boards < 1:
        raise UsageError(f"--boards {boards}: sample at least one board (two for an interval)")
    return boards


def rgbr_street(args: argparse.Namespace) -> int:
    return STREETS[args.rgbr_from or "flop"]


def run_rgbr(args: argparse.Namespace) -> int:
    for flag, value in (
        ("--hands", args.hands),
        ("--actions", args.actions),
        ("--lbr-bets", args.lbr_bets),
        ("--lbr-preflop", args.lbr_preflop),
    ):
        if value is not None:
            raise UsageError(f"{flag} does not apply to --rgbr; use --boards N to size it")
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    game = loaded.game
    check_rgbr_game(game)
    boards = check_boards(args.boards)
    street = rgbr_street(args)
    unit = Unit.of(game)
    result = rgbr_estimate(
        game,
        loaded.tables.strategy_sum,
        boards,
        args.seed,
        street,
        progress=progress("RGBR boards", boards),
        by_street=True,
    )
    estimates = result.estimates(unit)
    held_out = result.estimates(unit, held_out=True)
    streets = result.street_estimates(unit)
    exact = None
    if can_enumerate(game):
        hero = blueprint_policy(loaded.info.name, loaded.tables.strategy_sum)
        exact = ExactEvaluator(game).exploitability(row_probabilities(game, hero)) * unit.per_chip
    description = rgbr_description(game, result.boards, street, args.seed)
    if args.json:
        print(
            json.dumps(
                {
                    "run": str(args.run),
                    "snapshot": loaded.info.name,
                    "game": game.name,
                    "iteration": loaded.manifest.get("iteration"),
                    "evaluation": "rgbr",
                    "seed": args.seed,
                    "boards": result.boards,
                    "from": args.rgbr_from or "flop",
                    "exact": result.exact,
                    "rgbr": {k: v.as_dict() for k, v in estimates.items()},
                    "held_out": {k: v.as_dict() for k, v in held_out.items()},
                    "by_street": {k: v.as_dict() for k, v in streets.items()},
                    "exact_exploitability": exact,
                    "method": description,
                }
            )
        )
        return ExitCode.OK
    iteration = loaded.manifest.get("iteration")
    done = f" ({iteration:,} iterations)" if isinstance(iteration, int) else ""
    print(f"{game.name}, snapshot {loaded.info.name}{done}")
    print(description)
    digits = 1 if unit.name == "mbb/hand" else 4
    overall = estimates["overall"]
    print(f"RGBR value (best response, both seats): {overall.text(digits)}")
    for key, label in SEATS.items():
        print(f"  {label}: {estimates[key].text(digits)}")
    print("  where it gains over the blueprint's own play (adding up to the value above):")
    for name, gain in streets.items():
        print(f"    on the {name:<8}{gain.text(digits)}")
    if not result.exact and result.boards >= 2:
        print(
            f"held-out preflop (lines chosen on the other half of the boards): "
            f"{held_out['overall'].text(digits)}"
        )
    if exact is not None:
        print(f"exact exploitability: {exact:.{digits}f} {unit.name}")
    return ExitCode.OK
