"""``holdemd strategy export|show|chart``: what a trained strategy plays."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from holdemd.cli.common import add_blueprint_source, open_blueprint_source
from holdemd.errors import ExitCode, UsageError

log = logging.getLogger("holdemd")
MAX_JSON_ROWS = 1_000_000  # a JSON export past this is gigabytes: the blueprint file is the way


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``strategy`` on the ``holdemd`` subparsers."""
    strategy = subparsers.add_parser("strategy", help="work with trained strategies")
    strategy_commands = strategy.add_subparsers(
        dest="strategy_command", metavar="COMMAND", required=True
    )
    export = strategy_commands.add_parser(
        "export",
        help="write the average strategy as JSON",
        description="Write the average strategy as one JSON object mapping an infoset key "
        "(e.g. 'QK:rc/r') to action probabilities (Kuhn [pass, bet]; Leduc [fold, call, raise]). "
        "From --blueprint FILE: the file's (quantized) probabilities.",
    )
    add_blueprint_source(export)
    export.add_argument("--out", type=Path, required=True, help="JSON file to write")
    export.set_defaults(handler=cmd_strategy_export)

    from holdemd.blueprint.history import HISTORY_HELP

    seat_help = (
        "the seat to act: heads-up BTN (= SB, acts first preflop) or BB; 6-max UTG, HJ, CO, "
        "BTN, SB, BB; Kuhn/Leduc P0, P1. Without --history: its first decision when everyone "
        "before it folds; with --history: checked against the player to act"
    )
    show = strategy_commands.add_parser(
        "show",
        help="what the blueprint plays with one hand at one decision",
        description="Print the action probabilities (fold / call / each bet size) of the "
        "average strategy at the decision --history leads to, for --hand, with the bucket the "
        "hand falls in. Example: holdemd strategy show --run runs/hunl --hand AsKs "
        "--history 'r3 c' --board AhKd7c. A bet size off the tree is translated to the two tree "
        "sizes around it (pseudo-harmonic, by pot fraction); the output says so and shows the "
        "more likely one.",
    )
    add_blueprint_source(show)
    show.add_argument(
        "--hand",
        required=True,
        help="hole cards, e.g. AsKs (preflop also a class: AKs, 72o, TT); Kuhn/Leduc: J, Q or K",
    )
    show.add_argument(
        "--board",
        default="",
        metavar="CARDS",
        help="the board on the decision's street, e.g. AhKd7c (Leduc: the public card)",
    )
    show.add_argument("--history", metavar="ACTIONS", help=HISTORY_HELP)
    show.add_argument("--seat", metavar="SEAT", help=seat_help)
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=cmd_strategy_show)

    chart = strategy_commands.add_parser(
        "chart",
        help="every hand's raise/call/fold frequencies at one decision (13x13 preflop chart)",
        description="Print what the average strategy plays with every hand at one decision: "
        "preflop in Hold'em the usual 13x13 chart (pairs on the diagonal, suited hands above "
        "it, offsuit below) of raise, call and fold percentages, elsewhere a list of buckets. "
        "Example: holdemd strategy chart --run runs/hunl --seat BTN --png btn.png",
    )
    add_blueprint_source(chart)
    chart.add_argument("--seat", metavar="SEAT", help=seat_help)
    chart.add_argument("--history", metavar="ACTIONS", help=HISTORY_HELP)
    chart.add_argument(
        "--sizes", action="store_true", help="one grid per raise size instead of one for all"
    )
    chart.add_argument(
        "--png", type=Path, metavar="FILE", help="also draw the 13x13 chart into a PNG image"
    )
    chart.add_argument("--json", action="store_true", help="print one JSON object")
    chart.set_defaults(handler=cmd_strategy_chart)
    return strategy


def cmd_strategy_export(args: argparse.Namespace) -> int:
    from holdemd.strategy_export import strategy_to_json, write_json_atomic

    blueprint = open_blueprint_source(args)
    game = blueprint.tree.game
    if game.num_rows > MAX_JSON_ROWS:
        raise UsageError(
            f"{game.name} has {game.num_rows:,} infoset rows, too many for a JSON export; "
            "use `holdemd blueprint export` (a compact file) or `holdemd blueprint csv`"
        )
    data = strategy_to_json(game, blueprint.policy())
    try:
        write_json_atomic(args.out, data)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from exc
    print(
        f"wrote {len(data)} infosets of {game.name} (snapshot {blueprint.snapshot}) to {args.out}"
    )
    return ExitCode.OK


def cmd_strategy_show(args: argparse.Namespace) -> int:
    from holdemd.lookup.show import look_up, lookup_json, lookup_lines

    blueprint = open_blueprint_source(args)
    result = look_up(blueprint, args.hand, args.board, args.history, args.seat)
    if args.json:
        print(json.dumps(lookup_json(blueprint, result)))
    else:
        print("\n".join(lookup_lines(blueprint, result)))
    return ExitCode.OK


def cmd_strategy_chart(args: argparse.Namespace) -> int:
    from holdemd.lookup.chart import chart_json, chart_lines, make_chart

    blueprint = open_blueprint_source(args)
    chart = make_chart(blueprint, args.history, args.seat)
    if args.png is not None:
        from holdemd.lookup.chart_png import write_chart_png

        write_chart_png(chart, args.png)
    if args.json:
        print(json.dumps(chart_json(chart)))
    else:
        print("\n".join(chart_lines(chart, by_size=args.sizes)))
        if args.png is not None:
            print(f"wrote the chart to {args.png}")
    return ExitCode.OK
