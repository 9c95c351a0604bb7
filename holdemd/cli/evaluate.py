"""``holdemd eval``: exact exploitability, head-to-head matches, LBR and curves of a run."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from holdemd.errors import ExitCode, UsageError
from holdemd.games.kinds import game_kind

log = logging.getLogger("holdemd")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eval`` on the ``holdemd`` subparsers."""
    evaluate = subparsers.add_parser(
        "eval",
        help="measure a snapshot: exact exploitability (small games), head-to-head, or LBR",
        description="Evaluate the average strategy of a snapshot. Without --vs or --lbr: "
        "exactly, for games whose deals can be enumerated (Kuhn, Leduc, fixed-board Hold'em): "
        "exploitability ((BR0 + BR1) / 2, chips per game) and player 0's game value. "
        "--vs plays it against bots or another snapshot with duplicate deals; --lbr measures "
        "a local best response (heads-up Hold'em). Results are mbb/hand (chips per game for "
        "Kuhn and Leduc) with a 95% confidence interval over deals. --curve measures every "
        "snapshot of the run alike, one row each (--plot draws it). --litmus runs the "
        "strategy sanity checks (scenarios such as 'aces never fold first in') on a run, a "
        "snapshot or a blueprint file and exits 1 if any fails. --rgbr: a real-game best "
        "response on sampled boards (heads-up Hold'em).",
    )
    evaluate.add_argument(
        "--run",
        type=Path,
        help="run directory (train's --logdir); with --litmus also a snapshot directory",
    )
    evaluate.add_argument(
        "--blueprint",
        type=Path,
        metavar="FILE",
        help="--litmus: a blueprint file (holdemd blueprint export) instead of --run",
    )
    evaluate.add_argument(
        "--snapshot",
        metavar="NAME",
        help="snapshot name; first / latest: the oldest / newest kept (default: the latest)",
    )
    evaluate.add_argument(
        "--vs",
        metavar="LIST",
        help="opponents, comma-separated: random, call, raise, snapshot:NAME (another snapshot "
        "of the run; snapshot:first is the oldest kept); with --curve, none for no head-to-head",
    )
    evaluate.add_argument(
        "--lbr",
        action="store_true",
        help="local best response: a lower bound on exploitability (heads-up Hold'em)",
    )
    evaluate.add_argument(
        "--rgbr",
        action="store_true",
        help="real-game best response on sampled boards: a best response that sees its real "
        "cards and plays the tree's menu, exact below the sampled street (heads-up Hold'em)",
    )
    evaluate.add_argument(
        "--boards",
        type=int,
        metavar="N",
        help="--rgbr: boards to sample (default: 20); the same boards for every snapshot given "
        "--seed",
    )
    evaluate.add_argument(
        "--from",
        dest="rgbr_from",
        choices=["flop", "turn", "river"],
        help="--rgbr: the street whose boards are sampled (default: flop; turn and river are "
        "cheaper, the responder then follows the blueprint on the postflop streets before)",
    )
    evaluate.add_argument(
        "--hands",
        type=int,
        metavar="N",
        help="deals to play, each once per seat (default: 100,000 with --vs, 5,000 with --lbr)",
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the deals (default: 0)"
    )
    evaluate.add_argument(
        "--actions",
        choices=["expected", "sampled"],
        help="--vs: weight every action by its probability, or sample them (default: expected "
        "for trees up to 2,000 nodes, else sampled)",
    )
    evaluate.add_argument(
        "--aivat",
        action="store_true",
        help="--vs (heads-up Hold'em): also the AIVAT estimate from the same deals, with "
        "control variates at every sampled action and street, and the variance ratio",
    )
    evaluate.add_argument(
        "--lbr-bets",
        metavar="LIST",
        help="--lbr: LBR's bet sizes as pot fractions and/or allin, e.g. 1,allin; each maps to "
        "the nearest bet of the tree (default: every bet the tree offers)",
    )
    evaluate.add_argument(
        "--lbr-preflop",
        choices=["call", "fold-call", "greedy"],
        help="--lbr: LBR preflop always calls, picks fold or call, or also raises (default: "
        "fold-call; greedy on a fixed board)",
    )
    evaluate.add_argument(
        "--curve",
        action="store_true",
        help="the quality curve: every snapshot kept, oldest first, on the same deals; exact "
        "exploitability (small games), --vs (default elsewhere: random,call,snapshot:first), "
        "--lbr",
    )
    evaluate.add_argument(
        "--lbr-hands",
        type=int,
        metavar="M",
        help="--curve --lbr: LBR deals per snapshot (default: 5,000; --hands is for --vs)",
    )
    evaluate.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="--curve: also draw it as a PNG line chart (x: iterations, 95%% error bars)",
    )
    evaluate.add_argument(
        "--litmus",
        action="store_true",
        help="strategy sanity checks: a pass/fail table with a diagnosis for each failure; "
        "exit code 0 when none fails (skipped ones do not count), 1 when any fails, 2 for a "
        "usage error",
    )
    evaluate.add_argument(
        "--scenarios",
        type=Path,
        metavar="FILE",
        help="--litmus: a YAML scenarios file added to the shipped ones (same name: replaces "
        "it; 'replace_default: true' in the file: only its own)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=cmd_eval)
    return evaluate


def cmd_eval(args: argparse.Namespace) -> int:
    from holdemd.cli.eval_curve import refuse_curve_flags, run_curve_command
    from holdemd.cli.eval_litmus import refuse_litmus_flags, run_litmus_command
    from holdemd.cli.eval_report import check_exact_flags, run_eval_command
    from holdemd.evaluation.setup import resolve_snapshot_name
    from holdemd.rundir.load import load_snapshot
    from holdemd.solver.exact import ExactEvaluator
    from holdemd.solver.tables import average_strategy

    if args.litmus:
        return run_litmus_command(args)
    refuse_litmus_flags(args)
    if args.curve:
        return run_curve_command(args)
    refuse_curve_flags(args)
    if args.rgbr:
        from holdemd.cli.eval_rgbr import run_rgbr

        if args.vs is not None or args.lbr:
            raise UsageError("--rgbr, --vs and --lbr are separate evaluations; run one at a time")
        return run_rgbr(args)
    for flag, value in (("--boards", args.boards), ("--from", args.rgbr_from)):
        if value is not None and not args.rgbr:
            raise UsageError(f"{flag} applies to --rgbr")
    if args.vs is not None or args.lbr:
        return run_eval_command(args)
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    check_exact_flags(args, loaded.game)
    evaluator = ExactEvaluator(loaded.game)
    policy = average_strategy(loaded.game, loaded.tables.strategy_sum)
    exploitability = evaluator.exploitability(policy)
    value = evaluator.game_value(policy)
    known = game_kind(loaded.game.name).equilibrium_value
    if args.json:
        print(
            json.dumps(
                {
                    "run": str(args.run),
                    "snapshot": loaded.info.name,
                    "game": loaded.game.name,
                    "iteration": loaded.manifest.get("iteration"),
                    "exploitability": exploitability,
                    "nash_conv": 2 * exploitability,
                    "game_value": value,
                    "equilibrium_value": known,
                }
            )
        )
    else:
        iteration = loaded.manifest.get("iteration")
        print(f"{loaded.game.name}, snapshot {loaded.info.name} ({iteration:,} iterations)")
        print(f"exploitability  {exploitability:.6f} chips/game")
        reference = f"   (equilibrium {known:.6f})" if known is not None else ""
        print(f"game value      {value:.6f} for player 0{reference}")
    return ExitCode.OK
