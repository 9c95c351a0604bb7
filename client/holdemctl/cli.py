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
from holdemctl.parser import LOOKUP_TIMEOUT, WAIT_TIMEOUT, build_parser
from holdemd.config.overrides import given_flags
from holdemd.lookup.show_text import range_lines, show_lines
from holdemd.protocol.errors import E_PERMISSION

EXIT_INTERRUPTED: Final = 130


@dataclass
class Output:
    """What a command prints: ``result`` as JSON with --json, else ``text``; and its exit code."""

    result: Any
    text: str
    exit_code: int = 0


Handler = Callable[[ControlClient, argparse.Namespace], Output]


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
