"""Human-readable text for the daemon's results: status, workers, events, the health line.

Pure functions of the JSON the daemon sent (docs/control.md), so they are easy to test and a
field a newer daemon adds never breaks them. A field that is missing or of the wrong type
raises KeyError/TypeError/ValueError, which the command line reports as an unexpected reply.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Final

from holdemd.durations import format_about, format_bytes, format_duration
from holdemd.rundir.status import UP_SLOT_STATES

HEALTH_EXIT: Final = {"ok": 0, "warning": 1, "critical": 2}  # else 3, UNKNOWN
HEALTH_WORDS: Final = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


def workers_up(run: dict[str, Any]) -> tuple[int, int]:
    """(workers up, worker slots) of a run object."""
    workers = run["workers"]
    return sum(1 for w in workers if w["state"] in UP_SLOT_STATES), len(workers)


def health(result: dict[str, Any]) -> tuple[int, str]:
    """The monitoring-plugin exit code and line for a ``status`` result, e.g.
    ``(0, "HOLDEMD OK - running, 1,234,567 iterations, 2/2 workers")``."""
    info, run = result["health"], result["run"]
    code = HEALTH_EXIT.get(info["status"], 3)
    detail = _one_line(str(info["message"]))
    if run is not None:
        up, slots = workers_up(run)
        detail += f", {run['iterations']:,} iterations, {up}/{slots} workers"
    return code, f"HOLDEMD {HEALTH_WORDS[code]} - {detail}"


def status(result: dict[str, Any], now: datetime | None = None) -> str:
    """A compact multi-line summary of a ``status`` result, one "label  value" per line."""
    daemon, run, info = result["daemon"], result["run"], result["health"]
    rows = [
        (
            "daemon",
            f"pid {daemon['pid']}, holdemd {daemon['version']}, "
            f"up {format_duration(daemon['uptime_s'])}",
        ),
        ("health", f"{str(info['status']).upper()}: {_one_line(str(info['message']))}"),
    ]
    if run is None:
        rows.append(("run", "none active (holdemctl start CONFIG)"))
        past = result.get("past_runs") or []
        if past:
            last = past[0]
            rows.append(
                ("last run", f"{last['run_id']} {last['state']}, {last['iterations']:,} iterations")
            )
        return _rows(rows)
    rows += [
        ("run", f"{run['run_id']} ({run['game']}), {run['state']}" + _reason(run.get("reason"))),
        ("dir", str(run["run_dir"])),
        ("iterations", _progress(run)),
        ("time", _time(run)),
        ("workers", "{} of {} up".format(*workers_up(run))),
        ("snapshot", _snapshot(run.get("last_snapshot"), now)),
    ]
    if run.get("table_memory"):
        rows += _table_memory(run["table_memory"])
    for host in run.get("hosts") or []:
        rows.append((f"host {host['name']}", _host(host)))
    if run.get("litmus"):
        rows.append(("litmus", _litmus(run["litmus"])))
    if result.get("resumed_from"):
        rows.append(("resumed", f"from {result['resumed_from']} after a daemon restart"))
    return _rows(rows)


def _table_memory(memory: dict[str, Any]) -> list[tuple[str, str]]:
    """``tables`` (kind, size, blocks, bytes per entry) and, for lazy tables, ``growth``."""
    per_entry = memory["bytes_per_entry"]
    entry = "no entry yet" if per_entry is None else f"{per_entry:.2f} bytes per entry"
    size = format_bytes(memory["bytes"])
    if memory["kind"] == "dense":
        return [("tables", f"dense, {size} (fixed size), {entry}")]
    blocks, regret = memory["blocks"], memory["regret_blocks"]
    tables = (
        f"lazy, {size} (at most {format_bytes(memory['capacity_bytes'])}): {regret:,} of "
        f"{blocks:,} regret blocks ({100 * regret / max(blocks, 1):.1f}%), "
        f"{memory['strategy_blocks']:,} strategy-sum blocks, {entry}"
    )
    if memory.get("later_sums_bytes"):  # absent in the status of older daemons
        tables += f"; later streets' sums {format_bytes(memory['later_sums_bytes'])} on disk"
    growth = memory["growth_bytes_per_h"]
    if growth is None:
        return [("tables", tables), ("growth", "measuring")]
    text = f"{format_bytes(growth)}/h, {format_bytes(memory['available_bytes'])} available"
    if memory["runs_out_in_s"] is not None:
        text += f", runs out in {format_about(memory['runs_out_in_s'])}"
    return [("tables", tables), ("growth", text)]


def _host(host: dict[str, Any]) -> str:
    """An extra host of a multi-host run: ``running at 10.0.0.2, 2 of 2 workers, 3,100 it/s,
    heard 0.4 s ago, 12.0 MiB in / 5.0 MiB out``; a gone host's reason."""
    text = f"{host['state']}"
    if host.get("address"):
        text += f" at {host['address']}"
    if host["state"] in ("lost", "refused", "left"):
        return _one_line(text + _reason(host.get("reason")))
    text += f", {host['workers']} of {host['num_workers']} workers"
    text += f", {host['iterations_per_s']:,.0f} it/s"
    if host.get("last_contact_s") is not None:
        text += f", heard {host['last_contact_s']:.1f} s ago"
    text += f", {format_bytes(host['bytes_in'])} in / {format_bytes(host['bytes_out'])} out"
    return text


def _litmus(litmus: dict[str, Any]) -> str:
    """``3 of 3 pass at iteration 800,000``; failing names; or the error."""
    where = f" at iteration {litmus.get('iteration', 0):,}"
    if "error" in litmus:
        return _one_line(f"could not run{where}: {litmus['error']}")
    text = f"{litmus['passed']} of {litmus['total']} pass{where}"
    if litmus.get("failing"):
        text += "; failing: " + ", ".join(litmus["failing"])
    return text


def workers(result: dict[str, Any]) -> str:
    """A table of a ``workers`` result, one row per slot."""
    header = ("SLOT", "PID", "STATE", "ITERATIONS", "IT/S", "HEARTBEAT", "RSS", "RESTARTS")
    rows: list[tuple[str, ...]] = [(*header, "LAST ERROR")]
    for w in result["workers"]:
        age, rss = w["last_heartbeat_age_s"], w["rss_bytes"]
        rows.append(
            (
                str(w["slot"]),
                "-" if w["pid"] is None else str(w["pid"]),
                str(w["state"]),
                f"{w['iterations']:,}",
                f"{w['iterations_per_s']:,.0f}",
                "-" if age is None else f"{age:.1f}s ago",
                "-" if rss is None else format_bytes(rss),
                str(w["restarts"]),
                _one_line(w.get("last_error") or "")[:80],
            )
        )
    if len(rows) == 1:
        return "no active run, so no workers"
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {0, 1, 3, 4, 7}  # numbers line up on the right
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append(("  ".join(cells) + "  " + row[-1]).rstrip())
    return "\n".join(lines)


def event(kind: str, when: str, data: dict[str, Any]) -> str:
    """One line for a watched event: local time, kind, what happened."""
    return f"{_clock(when)}  {kind:<8}  {_describe(kind, data)}"


def _describe(kind: str, data: dict[str, Any]) -> str:
    if kind == "stats":
        return (
            f"{data['state']}: {data['iterations']:,} iterations, "
            f"{data['iterations_per_s']:,.0f} it/s, {format_duration(data['elapsed_s'])} "
            f"elapsed, {data['workers_alive']} workers up"
        )
    if kind == "state":
        return f"run {data['run_id']} {data['state']}" + _reason(data.get("reason"))
    if kind == "worker":
        pid = "" if data.get("pid") is None else f" (pid {data['pid']})"
        return f"worker {data['slot']}{pid} {data['what']}" + _reason(data.get("reason"))
    if kind == "snapshot":
        return (
            f"{data['path']} at iteration {data['iteration']:,}, "
            f"{format_bytes(data['bytes'])} in {data['seconds']:.1f} s"
        )
    return json.dumps(data)  # a kind a newer daemon added


def _progress(run: dict[str, Any]) -> str:
    done, target = run["iterations"], run["iterations_target"]
    text = f"{done:,}"
    if target:
        text += f" of {target:,} ({100 * done / target:.1f}%)"
    return text + f", {run['iterations_per_s']:,.0f} it/s"


def _time(run: dict[str, Any]) -> str:
    text = f"{format_duration(run['elapsed_s'])} elapsed"
    if run["time_budget_s"]:
        text += f" of {format_duration(run['time_budget_s'])}"
    if run.get("eta_s") is not None:
        text += f", ETA {format_duration(run['eta_s'])}"
    return text


def _snapshot(snap: dict[str, Any] | None, now: datetime | None) -> str:
    if not snap:
        return "none yet"
    text = f"iteration {snap['iteration']:,}"
    age = _age(snap.get("written_at"), now)
    if age is not None:
        text += f", {format_duration(age)} ago"
    return f"{text}: {snap['path']}"


def _age(iso: object, now: datetime | None) -> float | None:
    if not isinstance(iso, str):
        return None
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if then.tzinfo is None:
        return None
    return max(0.0, ((now or datetime.now(timezone.utc)) - then).total_seconds())


def _clock(iso: str) -> str:
    """HH:MM:SS of an event's UTC time, in local time (what a person's clock shows)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return iso[:19]


def _reason(reason: object) -> str:
    return f": {_one_line(str(reason))}" if reason else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _rows(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
