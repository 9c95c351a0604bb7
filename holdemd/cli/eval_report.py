"""``holdemd eval --vs …`` and ``--lbr``: a snapshot's head-to-head results and LBR, as text
or JSON (what they measure is ``evaluation.setup``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from holdemd.errors import ExitCode, UsageError
from holdemd.evaluation.lbr import check_lbr_game
from holdemd.evaluation.lbr_kernel import COUNT_CALLS, COUNT_DECISIONS, COUNT_FOLDS, COUNT_RAISES
from holdemd.evaluation.match import uses_allin_ev
from holdemd.evaluation.policies import blueprint_policy, row_probabilities
from holdemd.evaluation.setup import (
    DEFAULT_LBR_DEALS,
    DEFAULT_MATCH_DEALS,
    Opponent,
    check_aivat,
    check_hands,
    exact_match_value,
    expected_actions,
    lbr_description,
    lbr_estimate,
    lbr_setup,
    match_description,
    match_estimate,
    parse_opponents,
    resolve_snapshot_name,
)
from holdemd.evaluation.stats import Estimate, Unit
from holdemd.games.compiled import Game
from holdemd.rundir.load import LoadedSnapshot, load_snapshot
from holdemd.solver.exact import ExactEvaluator, can_enumerate


def _header(loaded: LoadedSnapshot) -> str:
    iteration = loaded.manifest.get("iteration")
    done = f" ({iteration:,} iterations)" if isinstance(iteration, int) else ""
    return f"{loaded.game.name}, snapshot {loaded.info.name}{done}"


def _interval(estimate: Estimate, digits: int) -> str:
    return f"[{estimate.low:+.{digits}f}, {estimate.high:+.{digits}f}]"


def run_head_to_head(args: argparse.Namespace) -> int:
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    game = loaded.game
    deals = check_hands(args.hands, DEFAULT_MATCH_DEALS)
    opponents = parse_opponents(args.vs, args.run, loaded)
    hero = blueprint_policy(loaded.info.name, loaded.tables.strategy_sum)
    expected = expected_actions(game, args.actions)
    aivat = check_aivat(game, args.aivat)
    allin_ev = uses_allin_ev(game)
    unit = Unit.of(game)
    exact = can_enumerate(game)
    digits = 1 if unit.name == "mbb/hand" else 4
    rows: list[tuple[Opponent, Estimate, float | None]] = []
    for opponent in opponents:
        estimate = match_estimate(
            game, hero, opponent, deals, args.seed, expected=expected, aivat=aivat
        )
        value = exact_match_value(game, hero, opponent.policy) * unit.per_chip if exact else None
        rows.append((opponent, estimate, value))
    if args.json:
        print(
            json.dumps(
                {
                    **_json_header(args, loaded, "head-to-head"),
                    "deals": deals,
                    "seats": game.num_players,
                    "seed": args.seed,
                    "actions": "expected" if expected else "sampled",
                    "allin_ev": allin_ev,
                    "aivat": aivat,
                    "unit": unit.name,
                    "results": [
                        {"opponent": o.label, **e.as_dict(), "exact": value} for o, e, value in rows
                    ],
                }
            )
        )
        return ExitCode.OK
    print(_header(loaded))
    print(match_description(game, deals, args.seed, expected, aivat))
    width = max(len(o.label) for o in opponents) + 3
    for opponent, estimate, value in rows:
        line = (
            f"vs {opponent.label:<{width}}{estimate.text(digits)}  {_interval(estimate, digits)}"
            f"  (±{estimate.half_width_single:.{digits}f} without duplicate)"
        )
        if value is not None:
            line += f"  exact {value:+.{digits}f}"
        print(line)
        if estimate.aivat is not None:
            print(f"{'':<{width + 3}}{aivat_line(estimate, digits)}")
    return ExitCode.OK


def aivat_line(estimate: Estimate, digits: int) -> str:
    """The AIVAT estimate under the plain one: its interval and what it gained."""
    corrected = estimate.aivat
    assert corrected is not None
    ratio = estimate.variance_ratio
    gained = (
        f"variance / {ratio:.2f}, interval x {corrected.half_width / estimate.half_width:.2f}"
        if ratio is not None and estimate.half_width > 0
        else "no variance left to reduce"
    )
    return f"{corrected.text(digits)}  {_interval(corrected, digits)}  with AIVAT: {gained}"


def run_lbr(args: argparse.Namespace) -> int:
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    game = loaded.game
    check_lbr_game(game)
    deals = check_hands(args.hands, DEFAULT_LBR_DEALS)
    setup = lbr_setup(game, args.lbr_bets, args.lbr_preflop)
    hero = blueprint_policy(loaded.info.name, loaded.tables.strategy_sum)
    estimate, counts = lbr_estimate(game, hero, setup, deals, args.seed)
    unit = Unit.of(game)
    exact = None
    if can_enumerate(game):
        evaluator = ExactEvaluator(game)
        exact = evaluator.exploitability(row_probabilities(game, hero)) * unit.per_chip
    decisions = max(int(counts[COUNT_DECISIONS]), 1)
    shares = {
        "fold": counts[COUNT_FOLDS] / decisions,
        "check_call": counts[COUNT_CALLS] / decisions,
        "bet_raise": counts[COUNT_RAISES] / decisions,
    }
    if args.json:
        print(
            json.dumps(
                {
                    **_json_header(args, loaded, "lbr"),
                    "seed": args.seed,
                    "lbr": estimate.as_dict(),
                    "exact_exploitability": exact,
                    "lbr_menu": setup.menu_text,
                    "lbr_preflop": setup.preflop,
                    "lbr_decisions": int(counts[COUNT_DECISIONS]),
                    "lbr_action_shares": {k: float(v) for k, v in shares.items()},
                }
            )
        )
        return ExitCode.OK
    print(_header(loaded))
    print(lbr_description(game, setup, deals, args.seed))
    print(
        f"LBR value (a lower bound on exploitability): {estimate.text()}  {_interval(estimate, 1)}"
    )
    if exact is not None:
        print(f"exact exploitability: {exact:.1f} {unit.name}")
    print(
        f"LBR's {int(counts[COUNT_DECISIONS]):,} decisions: {shares['fold']:.0%} fold, "
        f"{shares['check_call']:.0%} check/call, {shares['bet_raise']:.0%} bet/raise"
    )
    return ExitCode.OK


def run_eval_command(args: argparse.Namespace) -> int:
    """``holdemd eval`` with ``--vs`` or ``--lbr``."""
    if args.vs is not None and args.lbr:
        raise UsageError("--vs and --lbr are separate evaluations; run one at a time")
    if args.lbr:
        if args.aivat:
            raise UsageError("--aivat applies to --vs; LBR has no AIVAT estimate")
        if args.actions is not None:
            raise UsageError("--actions applies to --vs; LBR samples the blueprint's actions")
        return run_lbr(args)
    for flag, value in (("--lbr-bets", args.lbr_bets), ("--lbr-preflop", args.lbr_preflop)):
        if value is not None:
            raise UsageError(f"{flag} applies to --lbr")
    return run_head_to_head(args)


def check_exact_flags(args: argparse.Namespace, game: Game) -> None:
    """The exact evaluation (no --vs, no --lbr): refuse flags that only matter for play."""
    for flag, value in (
        ("--hands", args.hands),
        ("--actions", args.actions),
        ("--lbr-bets", args.lbr_bets),
        ("--lbr-preflop", args.lbr_preflop),
    ):
        if value is not None:
            raise UsageError(
                f"{flag} applies to --vs or --lbr; the exact evaluation uses every deal"
            )
    if args.aivat:
        raise UsageError("--aivat applies to --vs; the exact evaluation has no variance to reduce")
    if not can_enumerate(game):
        hint = "--vs random,call or --lbr" if game.num_players == 2 else "--vs random,call"
        raise UsageError(
            f"--run {args.run}: {game.name} has too many deals for an exact evaluation; "
            f"measure it with {hint}"
        )


def _json_header(
    args: argparse.Namespace, loaded: LoadedSnapshot, evaluation: str
) -> dict[str, Any]:
    """The keys every ``eval --json`` object starts with: what was measured, and how."""
    return {
        "run": str(args.run),
        "snapshot": loaded.info.name,
        "game": loaded.game.name,
        "iteration": loaded.manifest.get("iteration"),
        "evaluation": evaluation,
    }
