"""``holdemd eval --curve``: every kept snapshot of a run measured alike, as a table, JSON or a
PNG chart (what is measured is ``evaluation.curve``)."""

from __future__ import annotations

import argparse
import json

from holdemd.cli.eval_rgbr import check_boards, rgbr_street
from holdemd.errors import ExitCode, UsageError
from holdemd.evaluation.curve import (
    DEFAULT_CURVE_OPPONENTS,
    Plan,
    curve_json,
    curve_lines,
    measure_curve,
    plot_curve,
)
from holdemd.evaluation.lbr import check_lbr_game
from holdemd.evaluation.rgbr import check_rgbr_game
from holdemd.evaluation.setup import (
    DEFAULT_LBR_DEALS,
    DEFAULT_MATCH_DEALS,
    check_aivat,
    check_hands,
    expected_actions,
    lbr_setup,
    parse_opponents,
)
from holdemd.rundir.load import LoadedSnapshot, load_snapshot
from holdemd.rundir.store import list_snapshots
from holdemd.solver.exact import can_enumerate


def refuse_curve_flags(args: argparse.Namespace) -> None:
    """``eval`` without ``--curve``: the flags that only a curve uses are mistakes."""
    if args.plot is not None:
        raise UsageError(f"--plot {args.plot}: the plot is of a curve; add --curve")
    if args.lbr_hands is not None:
        raise UsageError(
            "--lbr-hands applies to --curve --lbr; for one snapshot's LBR use --lbr --hands N"
        )


def _plan(args: argparse.Namespace, loaded: LoadedSnapshot) -> Plan:
    game = loaded.game
    exact = can_enumerate(game)
    if args.lbr:
        check_lbr_game(game)
        lbr = lbr_setup(game, args.lbr_bets, args.lbr_preflop)
        lbr_deals = check_hands(args.lbr_hands, DEFAULT_LBR_DEALS, "--lbr-hands")
    else:
        for flag, value in (
            ("--lbr-hands", args.lbr_hands),
            ("--lbr-bets", args.lbr_bets),
            ("--lbr-preflop", args.lbr_preflop),
        ):
            if value is not None:
                raise UsageError(f"{flag} applies to --lbr; add --lbr to measure LBR on the curve")
        lbr, lbr_deals = None, 0
    rgbr_boards = 0
    if args.rgbr:
        check_rgbr_game(game)
        rgbr_boards = check_boards(args.boards)
    else:
        for flag, value in (("--boards", args.boards), ("--from", args.rgbr_from)):
            if value is not None:
                raise UsageError(f"{flag} applies to --rgbr; add --rgbr to measure it on the curve")
    # The exact exploitability says it all on a small game; head-to-head only when asked.
    vs = args.vs if args.vs is not None else (None if exact else DEFAULT_CURVE_OPPONENTS)
    if vs == "none":
        if not exact and not args.lbr and not args.rgbr:
            raise UsageError("--vs none leaves nothing to measure on this game; add --lbr")
        vs = None  # e.g. an LBR-only curve on Hold'em
    if vs is None:
        if args.aivat:
            raise UsageError("--aivat applies to --vs; add e.g. --vs random,call")
        for flag, value in (("--hands", args.hands), ("--actions", args.actions)):
            if value is not None:
                raise UsageError(
                    f"{flag} applies to --vs; add e.g. --vs random,call to play head-to-head"
                )
    return Plan(
        exact=exact,
        opponents=[] if vs is None else parse_opponents(vs, args.run, loaded),
        deals=check_hands(args.hands, DEFAULT_MATCH_DEALS),
        expected=expected_actions(game, args.actions),
        lbr=lbr,
        lbr_deals=lbr_deals,
        seed=args.seed,
        aivat=check_aivat(game, args.aivat),
        rgbr_boards=rgbr_boards,
        rgbr_street=rgbr_street(args),
    )


def run_curve_command(args: argparse.Namespace) -> int:
    """``holdemd eval --run DIR --curve``: print the table (or JSON), draw ``--plot``."""
    if args.snapshot is not None:
        raise UsageError(
            f"--snapshot {args.snapshot}: --curve evaluates every snapshot of the run; drop "
            "--snapshot (or drop --curve to evaluate that one)"
        )
    if not args.run.is_dir():
        raise UsageError(f"--run {args.run}: no such run directory; pass the --logdir of a run")
    snapshots = list_snapshots(args.run)
    if not snapshots:
        raise UsageError(
            f"--run {args.run}: no snapshots to draw a curve from; train first with "
            "`holdemd train` (it writes one every --snapshot-interval)"
        )
    # The newest snapshot gives the game; the others are checked against it.
    loaded = load_snapshot(args.run, snapshots[-1].name)
    plan = _plan(args, loaded)
    if args.plot is not None and not args.plot.parent.is_dir():
        # Found now, not after minutes of evaluation.
        raise UsageError(f"--plot {args.plot}: no such directory {args.plot.parent}")
    curve = measure_curve(args.run, loaded.game, snapshots, plan, loaded)
    if args.plot is not None:
        plot_curve(curve, args.plot)
    if args.json:
        print(json.dumps(curve_json(curve, args.plot)))
    else:
        print("\n".join(curve_lines(curve)))
        if args.plot is not None:
            print(f"wrote the plot to {args.plot}")
    return ExitCode.OK


# --------------------------------------------------------------------------------------------
# Output
