"""``holdemd blueprint export|info|ranges|csv|serve``: the blueprint file and the exports made from it.

These live under ``blueprint`` rather than ``strategy``: ``strategy show`` and ``chart`` print
for a person reading a terminal, while these write files and text for other programs (a
blueprint file for a bot, range strings for a range tool, CSV for a spreadsheet), and the
strategy service (``blueprint serve``) joins them here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from holdemd.cli.common import (
    add_blueprint_source,
    add_log_level,
    open_blueprint_source,
    setup_logging,
)
from holdemd.errors import ExitCode, UsageError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``blueprint`` on the ``holdemd`` subparsers."""
    from holdemd.blueprint.history import HISTORY_HELP

    blueprint = subparsers.add_parser(
        "blueprint", help="write a blueprint file, and ranges or CSV from one"
    )
    commands = blueprint.add_subparsers(dest="blueprint_command", metavar="COMMAND", required=True)
    export = commands.add_parser(
        "export",
        help="write a snapshot's strategy as one compact, memory-mapped blueprint file",
        description="Write the strategy a snapshot plays (its average strategy) with the "
        "betting tree, the action labels and the card abstraction (by digest when it ships "
        "with holdemd, else embedded) into one file that `holdemd strategy show --blueprint`, "
        "the Python API (holdemd.Blueprint.open) and programs in other languages read "
        "(docs/blueprint.md). Example: holdemd blueprint export --run runs/hunl --out hunl.bp",
    )
    export.add_argument("--run", type=Path, required=True, help="run directory (train's --logdir)")
    export.add_argument("--snapshot", metavar="NAME", help="snapshot name (default: the latest)")
    export.add_argument("--out", type=Path, required=True, help="the blueprint file to write")
    export.add_argument(
        "--bits",
        type=int,
        choices=(8, 16),
        help="bits per probability: 8 (error below 1/255) or 16 (below 1/65535); default 8 "
        "for Hold'em, 16 for Kuhn, Leduc and fixed-board Hold'em",
    )
    export.add_argument(
        "--embed-abstraction",
        action="store_true",
        help="put the card abstraction in the file even when it ships with holdemd (+4-5 MB)",
    )
    export.set_defaults(handler=cmd_export)

    info = commands.add_parser("info", help="what a blueprint file holds")
    info.add_argument("file", type=Path, help="a blueprint file")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=cmd_info)

    for name, help_text, handler in (
        ("ranges", "range strings (AA,AKs:0.75,...) of each action at one decision", cmd_ranges),
        ("csv", "one decision's strategy for every hand as CSV", cmd_csv),
    ):
        sub = commands.add_parser(name, help=help_text, description=_DESCRIPTIONS[name])
        add_blueprint_source(sub)
        sub.add_argument("--history", metavar="ACTIONS", help=HISTORY_HELP)
        sub.add_argument("--seat", metavar="SEAT", help="the seat to act (as strategy show)")
        sub.add_argument("--board", default="", metavar="CARDS", help="the board, e.g. AhKd7c")
        sub.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
        if name == "ranges":
            sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(handler=handler)

    serve = commands.add_parser(
        "serve",
        help="answer strategy look-ups over HTTP/JSON for bots in any language",
        description="Serve a blueprint over HTTP/JSON: GET /v1/strategy, /v1/act (one action "
        "drawn; seed=N reproduces it), /v1/range and /v1/info. A decision is given by the query "
        "parameters seat, hand, board and history, as strategy show takes them. Example: "
        "holdemd blueprint serve hunl.bp --listen 127.0.0.1:8080, then curl "
        "'http://127.0.0.1:8080/v1/strategy?hand=AsKs&board=AhKd7c&history=r2.5%20c'. "
        "Stops on Ctrl-C or SIGTERM. No authentication: keep it on loopback or a trusted network.",
    )
    serve.add_argument(
        "file", type=Path, help="a blueprint file (or a run directory: its latest snapshot)"
    )
    serve.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where to listen (default {DEFAULT_LISTEN}; [::1]:PORT for IPv6; port 0: any "
        "free port, printed)",
    )
    add_log_level(serve)
    serve.set_defaults(handler=cmd_serve)
    return blueprint


DEFAULT_LISTEN = "127.0.0.1:8080"
LOOPBACK = ("127.", "::1", "localhost")


_DESCRIPTIONS = {
    "ranges": "For each action at the decision --history leads to, the hands that take it, as "
    "a range string in the syntax PioSolver, GTO+ and most range tools read (AA,AKs:0.75,KQo:0.4): "
    "weight = probability of reaching the decision with the hand (Bayes from the blueprint's "
    "own actions) x probability of the action. Weights are absolute, so the strings of all "
    "actions add up to the range at the decision.",
    "csv": "Every hand at one decision (preflop the 169 classes, postflop every hole pair the "
    "board leaves) with its bucket and each action's probability: columns hand, bucket, "
    "bucket_label, action, label, probability.",
}


def cmd_export(args: argparse.Namespace) -> int:
    from holdemd.blueprint.export import export_blueprint
    from holdemd.rundir.load import load_snapshot

    loaded = load_snapshot(args.run, args.snapshot)
    try:
        report = export_blueprint(
            loaded, args.out, bits=args.bits, embed=True if args.embed_abstraction else None
        )
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from exc
    where = "embedded" if report.embedded_abstraction else "referenced by digest"
    print(
        f"wrote {args.out}: {report.bytes:,} bytes ({report.bytes / report.table_bytes:.1%} of "
        f"the snapshot's tables, {report.bytes / report.strategy_bytes:.1%} of its strategy "
        f"sums), {loaded.game.name} snapshot {loaded.info.name}, {report.rows:,} rows at "
        f"{report.bits} bits (largest probability error {report.max_error:.5f}), card "
        f"abstraction {where}, in {report.seconds:.1f} s"
    )
    return ExitCode.OK


def cmd_info(args: argparse.Namespace) -> int:
    from holdemd.blueprint.api import Blueprint

    if args.file.is_dir():
        raise UsageError(f"{args.file}: a directory; `blueprint info` reads a blueprint file")
    blueprint = Blueprint.open(args.file)  # verifies every section's checksum
    info = blueprint.info()
    if args.json:
        print(json.dumps(info))
        return ExitCode.OK
    abstraction = info["abstraction"] or {}
    lines = [
        f"{args.file}: holdemd blueprint (format {info['format_version']}, written "
        f"{info['created_at']}); every checksum verified",
        f"game {info['game']}, {info['players']} players, {info['nodes']:,} nodes, "
        f"{info['rows']:,} infoset rows, buckets {'/'.join(map(str, info['buckets']))}",
        f"snapshot {info['snapshot']}, {info['iteration']:,} iterations"
        if isinstance(info["iteration"], int)
        else f"snapshot {info['snapshot']}",
        f"probabilities: {info['bits']} bits, largest error {info['max_error']:.5f}",
    ]
    if abstraction:
        how = "embedded" if abstraction.get("embedded") else "referenced"
        lines.append(
            f"card abstraction {how}: digest {str(abstraction.get('digest'))[:12]}, preset "
            f"{abstraction.get('preset') or 'custom'}"
        )
    print("\n".join(lines))
    return ExitCode.OK


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from holdemd.rundir.atomic import write_text_atomic

    try:
        write_text_atomic(out, text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    print(f"wrote {out}", file=sys.stderr)


def cmd_ranges(args: argparse.Namespace) -> int:
    from holdemd.blueprint.ranges import range_strings

    blueprint = open_blueprint_source(args)
    table = blueprint.strategies(args.history, args.seat, args.board)
    ranges = blueprint.range(args.history, args.seat, args.board)
    decision = table.decision
    strings = range_strings(blueprint, table, ranges.reach[decision.player])
    if args.json:
        data = {
            "decision": decision.as_dict(),
            "board": args.board,
            "actions": [{**act.as_dict(), "range": strings[act.token]} for act in decision.actions],
        }
        _emit(json.dumps(data), args.out)
        return ExitCode.OK
    where = f"after '{decision.history}'" if decision.history else "at the start of the hand"
    lines = [f"# {blueprint.describe()}", f"# {decision.seat} to act {where}"]
    lines += [f"# note: {note}" for note in decision.notes]
    for act in decision.actions:
        lines += [f"# {act.token}: {act.label}", strings[act.token]]
    _emit("\n".join(lines), args.out)
    return ExitCode.OK


def cmd_csv(args: argparse.Namespace) -> int:
    from holdemd.blueprint.ranges import by_class, strategy_csv
    from holdemd.games.compiled import DEAL_HOLDEM

    blueprint = open_blueprint_source(args)
    table = blueprint.strategies(args.history, args.seat, args.board)
    street = table.decision.street
    game = blueprint.tree.game
    if street == 0 and game.arrays.deal_kind == DEAL_HOLDEM:
        table = by_class(table, blueprint.hands(0))
    _emit(strategy_csv(table, game.bucket_labels[street]), args.out)
    return ExitCode.OK


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[V6]:PORT``) to (host, port); `UsageError` naming ``--listen``."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address needs its brackets
    if not (colon and host and port.isascii() and port.isdigit() and int(port) <= 65535):
        raise UsageError(
            f"--listen {text!r}: expected HOST:PORT with a port from 0 to 65535, e.g. "
            "127.0.0.1:8080 ([::1]:8080 for IPv6; port 0 takes any free port)"
        )
    return host, int(port)


def cmd_serve(args: argparse.Namespace) -> int:
    from holdemd.blueprint.api import Blueprint
    from holdemd.blueprint.server import serve

    host, port = parse_listen(args.listen)
    setup_logging(args.log_level)
    blueprint = Blueprint.open(args.file)  # a missing or damaged file: its one-line error
    if not host.startswith(LOOPBACK):
        print(
            f"holdemd: note: listening on {host}, not loopback; the service has no "
            "authentication, anyone who reaches the port can query it",
            file=sys.stderr,
        )

    def ready(url: str) -> None:
        print(
            f"serving {blueprint.describe()} at {url} (GET /v1/strategy, /v1/act, /v1/range, "
            "/v1/info); stop with Ctrl-C or SIGTERM",
            flush=True,
        )

    try:
        asyncio.run(serve(blueprint, host, port, ready))
    except OSError as exc:
        raise UsageError(f"--listen {args.listen}: cannot listen: {exc.strerror or exc}") from exc
    print("stopped", flush=True)
    return ExitCode.OK
