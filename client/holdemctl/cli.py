"""The ``holdemctl`` command line.

Exit codes: 0 ok, 1 the daemon returned an error, 2 usage, 3 daemon not running, 4 timeout,
5 permission denied. ``health`` uses the monitoring-plugin codes instead: 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN. Every failure is one line on stderr (``--json``: also a JSON object on
stdout), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from holdemctl.connection import ClientError, ControlClient, DaemonError, find_socket
from holdemd.durations import format_bytes, format_duration

HEALTH_CODES = {"ok": 0, "warning": 1, "critical": 2}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--socket",
        default=argparse.SUPPRESS,
        help="the daemon's control.sock (default: $HOLDEMD_SOCKET, else the daemon's default)",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="how long to wait for a reply (default 10)",
    )
    parser = argparse.ArgumentParser(
        prog="holdemctl",
        description="Drive a running holdemd daemon (holdemd serve): start, pause, resume and "
        "stop training, take snapshots, and see what it is doing.",
        epilog="exit codes: 0 ok, 1 daemon error, 2 usage, 3 daemon not running, 4 timeout, "
        "5 permission denied (health: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    start = add("start", "start a training run (the same overrides as holdemd train)")
    start.add_argument("config", nargs="?", type=Path, help="YAML config (default: the daemon's)")
    start.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="RUN_DIR|SNAPSHOT",
        help="continue a run (default: the newest one)",
    )
    start.add_argument("--time-budget", metavar="DURATION", help="e.g. 8h, 30m, 600")
    start.add_argument("--iterations", type=int, metavar="N")
    start.add_argument("--snapshot-interval", metavar="DURATION")
    start.add_argument("--num-workers", type=int, metavar="N", help="0 = one per core")
    start.add_argument("--batch-size", type=int, metavar="N")
    start.add_argument("--seed", type=int, metavar="S")
    start.add_argument("--buckets", metavar="SPEC", help="quick, mid or a .npz file")
    start.add_argument(
        "--tensorboard", action=argparse.BooleanOptionalAction, default=None, help="(default: on)"
    )
    add("pause", "pause the run: workers finish their batch and idle; the budget clock stops")
    add("resume", "resume a paused run")
    stop = add("stop", "stop the run with a final snapshot")
    stop.add_argument("--wait", action="store_true", help="wait for the final snapshot")
    add("status", "what the daemon and its run are doing")
    add("workers", "the worker processes, one line each")
    snap = add("snapshot", "write a snapshot now")
    snap.add_argument("--no-wait", action="store_true", help="return before it is written")
    watch = add("watch", "follow events and progress until Ctrl-C")
    watch.add_argument("--interval", type=float, default=2.0, help="seconds between stats lines")
    add("health", "one line and a monitoring-plugin exit code (0 OK .. 3 UNKNOWN)")
    add("ping", "check that the daemon answers")
    add(
        "shutdown",
        "stop the daemon (the active run writes a final snapshot and resumes when "
        "the daemon starts again)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    as_json = getattr(args, "json", False)
    timeout = getattr(args, "timeout", 10.0)
    try:
        path = find_socket(getattr(args, "socket", None))
        with ControlClient(path, None if args.command == "watch" else timeout) as client:
            return COMMANDS[args.command](client, args, as_json)
    except ClientError as exc:
        if args.command == "health":
            print(f"HOLDEMD UNKNOWN - {exc}")
            return 3
        if as_json:
            code = exc.code if isinstance(exc, DaemonError) else type(exc).__name__
            message = exc.message if isinstance(exc, DaemonError) else str(exc)
            print(json.dumps({"ok": False, "error": {"code": code, "message": message}}))
        print(f"holdemctl {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0 if args.command == "watch" else 130


def _emit(result: Any, as_json: bool, text: str) -> int:
    print(json.dumps(result) if as_json else text)
    return 0


def _start(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    request: dict[str, Any] = {}
    if args.config is not None:
        request["config"] = str(args.config.resolve())  # the daemon has another cwd
    if args.resume is True:
        request["resume"] = True
    elif args.resume is not None:
        request["resume"] = str(Path(args.resume).resolve())
    names = (
        "time_budget iterations snapshot_interval num_workers batch_size seed buckets tensorboard"
    )
    overrides = {n: getattr(args, n) for n in names.split() if getattr(args, n) is not None}
    if args.buckets is not None and Path(args.buckets).suffix == ".npz":
        overrides["buckets"] = str(Path(args.buckets).resolve())
    if overrides:
        request["overrides"] = overrides
    result = client.request("start", request)
    return _emit(result, as_json, f"started run {result['run_id']} in {result['run_dir']}")


def _simple(cmd: str) -> Any:
    def run(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
        result = client.request(cmd)
        note = "" if result.get("changed", True) else " (it already was)"
        return _emit(result, as_json, f"{result.get('state', cmd + ' requested')}{note}")

    return run


def _stop(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    result = client.request("stop", {"wait": args.wait})
    text = result["state"] + ("" if result["changed"] else " (no run was active)")
    if result.get("snapshot"):
        text += f"; final snapshot {result['snapshot']}"
    return _emit(result, as_json, text)


def _snapshot(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    result = client.request("snapshot", {"wait": not args.no_wait})
    text = (
        f"snapshot being written (iteration {result['iteration']:,})"
        if result["pending"]
        else f"snapshot {result['path']} (iteration {result['iteration']:,})"
    )
    return _emit(result, as_json, text)


def _status(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    result = client.request("status")
    if as_json:
        return _emit(result, True, "")
    daemon, run, health = result["daemon"], result["run"], result["health"]
    lines = [
        f"daemon   pid {daemon['pid']}, holdemd {daemon['version']}, up "
        f"{format_duration(daemon['uptime_s'])}, state {daemon['state_dir']}",
        f"health   {health['status'].upper()}: {health['message']}",
    ]
    if run is None:
        lines.append("run      none active (holdemctl start CONFIG)")
    else:
        budget = run["time_budget_s"]
        target = run["iterations_target"]
        alive = sum(1 for w in run["workers"] if w["state"] in ("running", "paused", "compiling"))
        lines += [
            f"run      {run['run_id']} ({run['game']}) {run['state']}"
            + (f": {run['reason']}" if run.get("reason") else ""),
            f"dir      {run['run_dir']}",
            f"progress {run['iterations']:,}"
            + (f"/{target:,}" if target else "")
            + f" iterations, {run['iterations_per_s']:,.0f} it/s",
            f"time     {format_duration(run['elapsed_s'])}"
            + (f" of {format_duration(budget)}" if budget else "")
            + (f", ETA {format_duration(run['eta_s'])}" if run.get("eta_s") is not None else ""),
            f"workers  {alive}/{len(run['workers'])} up",
        ]
        snap = run.get("last_snapshot")
        lines.append(
            f"snapshot {snap['path']} (iteration {snap['iteration']:,})"
            if snap
            else "snapshot none yet"
        )
        if result.get("resumed_from"):
            lines.append(f"resumed  from {result['resumed_from']} after a restart")
    return _emit(result, False, "\n".join(lines))


def _workers(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    result = client.request("workers")
    if as_json:
        return _emit(result, True, "")
    rows = [("SLOT", "PID", "STATE", "ITERATIONS", "IT/S", "BEAT", "RSS", "RESTARTS", "ERROR")]
    for w in result["workers"]:
        age = w["last_heartbeat_age_s"]
        rows.append(
            (
                str(w["slot"]),
                str(w["pid"] or "-"),
                w["state"],
                f"{w['iterations']:,}",
                f"{w['iterations_per_s']:,.0f}",
                f"{age:.1f}s" if age is not None else "-",
                format_bytes(w["rss_bytes"]) if w["rss_bytes"] else "-",
                str(w["restarts"]),
                (w["last_error"] or "")[:60],
            )
        )
    if len(rows) == 1:
        return _emit(result, False, "no active run")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return _emit(result, False, text.rstrip())


def _watch(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    client.request("subscribe", {"interval": args.interval})
    for event in client.events():
        if as_json:
            print(json.dumps({"event": event.event, "time": event.time, "data": event.data}))
        else:
            print(f"{event.time[11:19]} {event.event:<8} {_describe(event.event, event.data)}")
        sys.stdout.flush()
    return 0


def _describe(kind: str, data: dict[str, Any]) -> str:
    if kind == "stats":
        return (
            f"{data.get('state')}: {data.get('iterations', 0):,} iterations, "
            f"{data.get('iterations_per_s', 0):,.0f} it/s, {data.get('workers_alive')} workers up"
        )
    if kind == "worker":
        why = f": {data['reason']}" if data.get("reason") else ""
        return f"worker {data.get('slot')} (pid {data.get('pid')}) {data.get('what')}{why}"
    if kind == "snapshot":
        return f"{data.get('path')} (iteration {data.get('iteration', 0):,})"
    if kind == "state":
        why = f": {data['reason']}" if data.get("reason") else ""
        return f"run {data.get('run_id')} {data.get('state')}{why}"
    return json.dumps(data)


def _health(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    result = client.request("status")
    health, run = result["health"], result["run"]
    code = HEALTH_CODES.get(health["status"], 3)
    word = {0: "OK", 1: "WARNING", 2: "CRITICAL"}.get(code, "UNKNOWN")
    detail = health["message"]
    if run is not None:
        alive = sum(1 for w in run["workers"] if w["state"] in ("running", "paused", "compiling"))
        detail += f", {run['iterations']:,} iterations, {alive}/{len(run['workers'])} workers"
    if as_json:
        print(json.dumps({"status": word, "code": code, "message": detail}))
    else:
        print(f"HOLDEMD {word} - {detail}")
    return code


def _ping(client: ControlClient, args: argparse.Namespace, as_json: bool) -> int:
    import time

    t0 = time.perf_counter()
    result = client.request("ping")
    ms = 1000 * (time.perf_counter() - t0)
    return _emit(
        {**result, "ms": ms},
        as_json,
        f"pong from holdemd {result['version']} (pid {result['pid']}) in {ms:.1f} ms",
    )


COMMANDS = {
    "start": _start,
    "pause": _simple("pause"),
    "resume": _simple("resume"),
    "stop": _stop,
    "status": _status,
    "workers": _workers,
    "snapshot": _snapshot,
    "watch": _watch,
    "health": _health,
    "ping": _ping,
    "shutdown": _simple("shutdown"),
}
