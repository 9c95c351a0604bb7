"""``holdemctl``'s arguments: the global options, one subcommand per control command, and the
run flags shared with ``holdemd train`` (``holdemd.config.overrides``)."""

from __future__ import annotations

import argparse
import math
from typing import Final

from holdemctl.connection import DEFAULT_TIMEOUT
from holdemd import __version__
from holdemd.config.overrides import add_run_flags

# stop --wait and snapshot wait for a snapshot to be written, start for the game to load (the
# first start of a Hold'em config builds bucket tables and compiles kernels): minutes.
WAIT_TIMEOUT: Final = 3600.0
# A first look-up may wait for the daemon to load a snapshot or describe a big tree.
LOOKUP_TIMEOUT: Final = 300.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    # The global options live in a parent parser added to the main parser and every
    # subcommand, with SUPPRESS defaults so a subcommand does not reset what was given before
    # it: `holdemctl --json status` and `holdemctl status --json` both work.
    # allow_abbrev=False everywhere: a prefix of one option must not silently mean another
    # (`--time` for --timeout or --time-budget).
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument(
        "--socket",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="the daemon's control.sock, or the directory holding it "
        "(default: $HOLDEMD_SOCKET, else the places docs/control.md lists)",
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the daemon's result as JSON (errors too)",
    )
    common.add_argument(
        "--timeout",
        type=_seconds,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help=f"how long to wait for a reply (default {DEFAULT_TIMEOUT:g}; {WAIT_TIMEOUT:g} for "
        "start, which waits until the game is loaded, and for stop --wait and snapshot, which "
        f"wait for a snapshot to be written; {LOOKUP_TIMEOUT:g} for strategy, whose first "
        "look-up may load a snapshot)",
    )
    parser = argparse.ArgumentParser(
        prog="holdemctl",
        description="Drive a running holdemd daemon (holdemd serve): start, pause, resume and "
        "stop training, take snapshots, and see what it is doing.",
        epilog="exit codes: 0 ok, 1 daemon error, 2 usage, 3 daemon not running, 4 timeout, "
        "5 permission denied or untrusted socket (health: 0 OK, 1 WARNING, 2 CRITICAL, "
        "3 UNKNOWN)",
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"holdemctl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help_text, description=help_text, parents=[common], allow_abbrev=False
        )

    start = add(
        "start",
        "start a training run (the same overrides as holdemd train); waits until the daemon "
        "has loaded the game and started the run, which the first time for a Hold'em config "
        "takes minutes (bucket tables are built, kernels compiled)",
    )
    start.add_argument(
        "config",
        nargs="?",
        help="YAML config (default: the run's own with --resume, else holdemd serve --config)",
    )
    start.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="RUN_DIR|SNAPSHOT",
        help="continue a run from its newest snapshot (no value: the newest run)",
    )
    add_run_flags(start)  # the same flags as holdemd train, from one table
    add("pause", "pause the run: workers finish their batch and idle; the budget clock stops")
    add("resume", "resume a paused run")
    stop = add("stop", "stop the run, writing a final snapshot")
    stop.add_argument("--wait", action="store_true", help="return once the snapshot is written")
    add("status", "what the daemon and its run are doing")
    add("workers", "the worker processes, one row each")
    snapshot = add("snapshot", "write a snapshot now")
    snapshot.add_argument("--no-wait", action="store_true", help="return before it is written")
    watch = add("watch", "print events and progress as they happen, until Ctrl-C")
    watch.add_argument(
        "--interval", type=_seconds, default=2.0, metavar="SECONDS", help="between stats lines"
    )
    _add_strategy(
        add("strategy", "what the blueprint plays: the live tables or a snapshot"), common
    )
    add("health", "one line and a monitoring-plugin exit code (0 OK .. 3 UNKNOWN)")
    add("ping", "check that the daemon answers, and how fast")
    add(
        "shutdown",
        "stop the daemon (an active run writes a final snapshot and resumes when the daemon "
        "starts again)",
    )
    return parser


def _add_strategy(strategy: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """``strategy show`` and ``strategy range``: the flags of ``holdemd strategy show``, the
    source being the daemon's active run (live tables) or ``--snapshot`` / ``--run``."""
    lookups = strategy.add_subparsers(dest="lookup", metavar="LOOKUP", required=True)
    show = lookups.add_parser(
        "show",
        help="the action probabilities for one hand at one decision (as holdemd strategy show)",
        description="What the blueprint plays with --hand at the decision --history leads to, "
        "and the bucket the hand falls in: from the active run's live tables (its average "
        "strategy now), or from a snapshot. Example: holdemctl strategy show --hand AsKs "
        "--board AhKd7c --history 'r2.5 c'",
        parents=[common],
        allow_abbrev=False,
    )
    show.add_argument(
        "--hand", required=True, help="hole cards, e.g. AsKs (preflop also a class: AKs, 72o)"
    )
    ranges = lookups.add_parser(
        "range",
        help="each player's range at one decision, as range strings",
        description="Each player's range at the decision --history leads to (Bayes from the "
        "blueprint's own actions), as range strings (AA,AKs:0.75,...) with their combinations.",
        parents=[common],
        allow_abbrev=False,
    )
    for sub in (show, ranges):
        sub.add_argument("--board", default="", metavar="CARDS", help="e.g. AhKd7c")
        sub.add_argument(
            "--history",
            metavar="ACTIONS",
            help="the actions before the decision, as holdemd strategy show takes them "
            "(e.g. 'r2.5 c / k b3')",
        )
        sub.add_argument("--seat", metavar="SEAT", help="the seat to act (BTN, BB, ...)")
        sub.add_argument(
            "--snapshot",
            metavar="NAME",
            help="read this snapshot (first and latest work too) instead of the live tables",
        )
        sub.add_argument(
            "--run",
            metavar="RUN",
            help="with --snapshot (default: latest): a past run of the daemon, by its directory "
            "name, run id or path (default: the active run, else the newest)",
        )
