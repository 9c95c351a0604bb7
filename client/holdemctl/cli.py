"""The ``holdemctl`` command line: drive a running ``holdemd serve`` over its control socket.

Exit codes: 0 ok, 1 the daemon answered with an error (or an unreadable reply), 2 usage,
3 daemon not running, 4 timeout, 5 permission denied (or a socket it will not trust). ``health`` uses the monitoring-plugin
codes instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Every failure is one line on stderr,
never a traceback; with ``--json`` it is also ``{"ok": false, "error": {"code", "message"}}`` on
stdout, with the daemon's E_* code or one of the client's (E_NO_DAEMON, E_TIMEOUT,
E_PERMISSION, E_UNTRUSTED_SOCKET, E_CLIENT).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from holdemctl import render
from holdemctl.connection import (
    DEFAULT_TIMEOUT,
    PERMISSION_HINT,
    ClientError,
    ControlClient,
    DaemonError,
    NotRunning,
    Timeout,
    connect,
)
from holdemd import __version__
from holdemd.config.overrides import add_run_flags, given_flags
from holdemd.lookup.show_text import range_lines, show_lines
from holdemd.protocol.errors import E_PERMISSION

# stop --wait and snapshot wait for a snapshot to be written, start for the game to load (the
# first start of a Hold'em config builds bucket tables and compiles kernels): minutes.
WAIT_TIMEOUT: Final = 3600.0
# A first look-up may wait for the daemon to load a snapshot or describe a big tree.
LOOKUP_TIMEOUT: Final = 300.0
EXIT_INTERRUPTED: Final = 130


@dataclass
class Output:
    """What a command prints: ``result`` as JSON with --json, else ``text``; and its exit code."""

    result: Any
    text: str
    exit_code: int = 0


Handler = Callable[[ControlClient, argparse.Namespace], Output]


# --------------------------------------------------------------------------------------------
# Arguments


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


# --------------------------------------------------------------------------------------------
# Commands


def _absolute(path: str) -> str:
    # The daemon has its own cwd (/ under systemd): a relative path would mean something else.
    return os.path.abspath(os.path.expanduser(path))


def start_args(args: argparse.Namespace) -> dict[str, Any]:
    """The ``start`` request's args from the command line (docs/control.md)."""
    request: dict[str, Any] = {}
    if args.config is not None:
        request["config"] = _absolute(args.config)
    if args.resume is True:
        request["resume"] = True
    elif args.resume is not None:
        request["resume"] = _absolute(args.resume)
    overrides = given_flags(args)
    buckets = overrides.get("buckets")
    if buckets is not None and (os.sep in buckets or buckets.endswith(".npz")):
        overrides["buckets"] = _absolute(buckets)  # a file, not a preset name
    if overrides:
        request["overrides"] = overrides
    return request


def _start(client: ControlClient, args: argparse.Namespace) -> Output:
    try:
        result = client.request("start", start_args(args))
    except Timeout as exc:
        # The daemon goes on loading the game whether or not we wait for it.
        raise Timeout(
            f"{exc}; the daemon may still be starting the run (`holdemctl status` shows it)"
        ) from None
    return Output(result, f"started run {result['run_id']} in {result['run_dir']}")


def _toggle(cmd: str) -> Handler:
    def run(client: ControlClient, args: argparse.Namespace) -> Output:
        result = client.request(cmd)
        return Output(result, result["state"] + ("" if result["changed"] else " (already)"))

    return run


def _stop(client: ControlClient, args: argparse.Namespace) -> Output:
    result = client.request("stop", {"wait": args.wait})
    if not result["changed"]:
        last = result["state"]
        text = "no active run to stop" + ("" if last == "idle" else f" (the last one {last})")
    elif not args.wait:
        text = "stopping: the final snapshot is being written (holdemctl status shows progress)"
    else:
        text = f"run {result['state']}"
    if result.get("snapshot"):
        text += f"; final snapshot {result['snapshot']}"
    # A stop that ends in a failed run is not a success for a script checking $?.
    return Output(result, text, 1 if args.wait and result["state"] == "failed" else 0)


def _snapshot(client: ControlClient, args: argparse.Namespace) -> Output:
    result = client.request("snapshot", {"wait": not args.no_wait})
    if result["pending"]:
        text = f"snapshot of iteration {result['iteration']:,} is being written"
    else:
        text = f"snapshot of iteration {result['iteration']:,} written to {result['path']}"
    return Output(result, text)


def _status(client: ControlClient, args: argparse.Namespace) -> Output:
    result = client.request("status")
    return Output(result, render.status(result))


def _workers(client: ControlClient, args: argparse.Namespace) -> Output:
    result = client.request("workers")
    return Output(result, render.workers(result))


def _health(client: ControlClient, args: argparse.Namespace) -> Output:
    result = client.request("status")
    code, line = render.health(result)
    summary = {"status": render.HEALTH_WORDS[code], "code": code, "line": line}
    return Output({**summary, "health": result["health"]}, line, code)


def _ping(client: ControlClient, args: argparse.Namespace) -> Output:
    started = time.perf_counter()
    result = client.request("ping")
    ms = 1000 * (time.perf_counter() - started)
    text = f"pong from holdemd {result['version']} (pid {result['pid']}) in {ms:.2f} ms"
    return Output({**result, "ms": round(ms, 3)}, text)


def _shutdown(client: ControlClient, args: argparse.Namespace) -> Output:
    result = client.request("shutdown")
    return Output(
        result, "the daemon is shutting down" + ("" if result["changed"] else " (already)")
    )


def lookup_args(args: argparse.Namespace) -> dict[str, Any]:
    """The ``strategy`` / ``range`` request's args from the command line."""
    request: dict[str, Any] = {}
    if args.lookup == "show":
        request["hand"] = args.hand
    if args.board:
        request["board"] = args.board
    for name in ("history", "seat", "snapshot"):
        if getattr(args, name) is not None:
            request[name] = getattr(args, name)
    if args.run is not None:
        # A path means the daemon's own run directory: absolute, as the daemon's cwd differs.
        request["run"] = _absolute(args.run) if os.sep in args.run else args.run
    return request


def _strategy(client: ControlClient, args: argparse.Namespace) -> Output:
    if args.lookup == "show":
        result = client.request("strategy", lookup_args(args))
        return Output(result, "\n".join(show_lines(result)))
    result = client.request("range", lookup_args(args))
    return Output(result, "\n".join(range_lines(result)))


def _watch(client: ControlClient, args: argparse.Namespace) -> Output:
    """Print events until Ctrl-C (exit 0) or until the daemon hangs up (NotRunning, exit 3)."""
    events = client.subscribe(args.interval)  # the reply within --timeout, then no limit
    try:
        for event in events:
            if args.json:
                obj = {"v": event.v, "event": event.event, "time": event.time, "data": event.data}
                print(json.dumps(obj, separators=(",", ":")), flush=True)
            else:
                print(render.event(event.event, event.time, event.data), flush=True)
    except NotRunning as exc:
        raise NotRunning(
            f"{exc} (it stopped or restarted); `holdemctl status` tells whether it is back"
        ) from None
    return Output(None, "")  # unreachable: events() ends only by raising


COMMANDS: Final[dict[str, Handler]] = {
    "start": _start,
    "pause": _toggle("pause"),
    "resume": _toggle("resume"),
    "stop": _stop,
    "status": _status,
    "workers": _workers,
    "snapshot": _snapshot,
    "watch": _watch,
    "strategy": _strategy,
    "health": _health,
    "ping": _ping,
    "shutdown": _shutdown,
}


# --------------------------------------------------------------------------------------------
# The process edge


def _timeout(args: argparse.Namespace) -> float:
    if hasattr(args, "timeout"):
        return float(args.timeout)
    waits = (
        args.command == "start"
        or (args.command == "stop" and args.wait)
        or (args.command == "snapshot" and not args.no_wait)
    )
    if args.command == "strategy":
        return LOOKUP_TIMEOUT
    return WAIT_TIMEOUT if waits else DEFAULT_TIMEOUT


def _fail(args: argparse.Namespace, error: ClientError) -> int:
    """One line for a person, the error as JSON on stdout with --json; the exit code."""
    line = str(error)  # a DaemonError reads "E_CODE: message"
    message = error.message if isinstance(error, DaemonError) else line
    if isinstance(error, DaemonError) and error.code == E_PERMISSION:
        line += f" ({PERMISSION_HINT})"  # the JSON keeps the daemon's message as it was
    if args.json:
        print(json.dumps({"ok": False, "error": {"code": error.code, "message": message}}))
    if args.command == "health":
        if args.json:
            print(f"holdemctl: {line}", file=sys.stderr)
        else:
            print(f"HOLDEMD UNKNOWN - {line}")  # a monitoring system reads stdout
        return 3
    print(f"holdemctl: {line}", file=sys.stderr)
    return error.exit_code


def run(args: argparse.Namespace) -> int:
    """Execute parsed arguments; every failure becomes an exit code and one line."""
    try:
        with connect(getattr(args, "socket", None), _timeout(args)) as client:
            out = COMMANDS[args.command](client, args)
    except ClientError as exc:
        return _fail(args, exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A reply without the fields docs/control.md promises: another holdemd version?
        what = f"{type(exc).__name__}: {exc}"
        return _fail(args, ClientError(f"unexpected reply to {args.command} ({what})"))
    if args.json:
        print(json.dumps(out.result))
    elif out.text:
        print(out.text)
    return out.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 on a usage error, 0 for --help
    args.json = getattr(args, "json", False)
    try:
        code = run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
        return code
    except KeyboardInterrupt:
        if args.command == "watch":
            return 0  # Ctrl-C is how a watch ends
        print("holdemctl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`holdemctl watch | head`): say nothing more, and keep Python
        # from reporting the failed flush of stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0 if args.command == "watch" else 1
