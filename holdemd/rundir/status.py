"""The live status file ``RUN/status.json``: what a run is doing, readable without any socket.

The supervisor rewrites it with :func:`write_status` (periodically and on every state change);
scripts, monitoring and ``jq`` read it directly, Python callers through :func:`read_status`.
Each write goes to a temporary file in the same directory, is fsynced and then renamed over
the old one, so a reader sees the previous status or the new one, never half a file.

The file holds one object: ``{"schema": STATUS_SCHEMA_VERSION, <RunStatus fields>}``, with
``workers`` a list of WorkerStatus objects. Adding a key is compatible (readers ignore keys
they do not know); renaming or removing one, or changing its meaning, bumps
STATUS_SCHEMA_VERSION. JSON has no NaN, so a non-finite number is written as ``null``.

This module imports only the standard library, so reading a status stays cheap.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar, get_args

from holdemd import __version__
from holdemd.durations import format_duration
from holdemd.errors import UsageError
from holdemd.rundir.atomic import write_text_atomic

STATUS_SCHEMA_VERSION = 1
STATUS_FILE = "status.json"

SlotState = Literal[
    "starting",  # process spawned, no hello yet
    "compiling",  # numba is compiling the kernels: slow, but not hung
    "running",
    "paused",
    "hung",  # no heartbeat or no progress within its timeout; about to be restarted
    "restarting",  # waiting out the restart backoff
    "failed",  # gave up on this slot
    "stopped",
]
RunState = Literal["starting", "running", "paused", "stopping", "finished", "degraded", "failed"]
SLOT_STATES: tuple[str, ...] = get_args(SlotState)
RUN_STATES: tuple[str, ...] = get_args(RunState)

# The supervisor's verdict on a slot, by group: a process is there and working (or ready to);
# something is wrong with it; the supervisor no longer watches it. Status lines, the client,
# the service's health and stats and the metrics all count with these.
UP_SLOT_STATES: frozenset[str] = frozenset({"compiling", "running", "paused"})
TROUBLED_SLOT_STATES: frozenset[str] = frozenset({"hung", "restarting", "failed"})
FINAL_SLOT_STATES: frozenset[str] = frozenset({"failed", "stopped"})
MAX_ERROR_CHARS = 500  # last_error and reason are one line for `status` output and logs
MAX_TRACEBACK_CHARS = 8000  # the file is rewritten every few seconds: keep it small


class LastSnapshot(TypedDict):
    """The newest snapshot of the run."""

    name: str
    path: str
    iteration: int
    written_at: str  # UTC, ISO 8601


@dataclass
class WorkerStatus:
    """One worker slot; a restarted worker keeps its slot and gets a new incarnation."""

    slot: int
    pid: int | None  # None while no process runs in the slot
    incarnation: int  # 0 for the slot's first process, +1 per restart
    state: SlotState
    iterations: int  # iterations this slot contributed to the tables
    iterations_per_s: float
    last_heartbeat_age_s: float | None  # None before the first heartbeat
    rss_bytes: int | None  # None where the platform cannot tell
    restarts: int
    last_error: str | None = None  # one line, e.g. "ValueError: bad delta"
    last_traceback: str | None = None  # the worker's traceback for last_error, if it sent one

    def __post_init__(self) -> None:
        _check_state("worker state", self.state, SLOT_STATES)


@dataclass
class RunStatus:
    """A training run as the supervisor sees it now."""

    run_id: str
    state: RunState
    reason: str | None  # why the run is degraded, failed or finished; one line
    game: str
    iterations: int
    iterations_target: int | None  # None: no iteration budget
    iterations_per_s: float
    elapsed_s: float  # training time, not counting pauses
    time_budget_s: float | None  # None: no time budget
    eta_s: float | None  # None when there is no budget to finish
    workers: list[WorkerStatus]
    last_snapshot: LastSnapshot | None
    pid: int  # the supervisor's process id
    started_at: str  # UTC, ISO 8601
    updated_at: str  # UTC, ISO 8601: a stale value means the supervisor is gone or stuck
    dropped_messages: int  # worker messages rejected as malformed or oversized
    version: str = field(default=__version__)  # the holdemd package that wrote the status
    # Writes that failed and were retried, by kind ("status", "snapshot"): a full disk shows
    # here (and in ``reason`` while it lasts) instead of ending the run.
    write_failures: dict[str, int] = field(default_factory=dict)
    # The sanity scenarios at the latest snapshot (training.litmus): passed, failed, skipped,
    # total (judged), failing (names), iteration, snapshot; or error. None: not run (yet).
    litmus: dict[str, Any] | None = None
    # The tables' memory (training.table_memory.TableMemory): kind, bytes, capacity_bytes,
    # entries, bytes_per_entry, regret_blocks, strategy_blocks, blocks, rows, total_rows,
    # later_sums_bytes (on disk), growth_bytes_per_h, available_bytes, runs_out_in_s, warning.
    # None: not measured (yet).
    table_memory: dict[str, Any] | None = None
    # A multi-host run's extra hosts (holdemd.hosts.remote.RemoteHost.status): name, address,
    # state, reason, workers, num_workers, iterations_per_s, iterations, last_contact_s,
    # bytes_in, bytes_out, sessions. None: a single-host run.
    hosts: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        _check_state("run state", self.state, RUN_STATES)


def utc_now_iso() -> str:
    """The current time for ``started_at`` and ``updated_at``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def status_path(run_dir: Path) -> Path:
    """``RUN/status.json``."""
    return run_dir / STATUS_FILE


def status_to_dict(status: RunStatus) -> dict[str, Any]:
    """The JSON object written to ``status.json``, ``schema`` first."""
    data: dict[str, Any] = {"schema": STATUS_SCHEMA_VERSION, **asdict(status)}
    data["reason"] = _one_line(status.reason)
    for worker in data["workers"]:
        worker["last_error"] = _one_line(worker["last_error"])
        worker["last_traceback"] = _tail(worker["last_traceback"], MAX_TRACEBACK_CHARS)
    return _json_safe(data)


def status_from_dict(data: Mapping[str, Any]) -> RunStatus:
    """A RunStatus from a status object; keys it does not know are ignored.

    Raises KeyError, TypeError or ValueError when a key is missing or a state is unknown;
    :func:`read_status` turns those into a UsageError naming the file.
    """
    values = _field_values(RunStatus, data)
    values["workers"] = [WorkerStatus(**_field_values(WorkerStatus, w)) for w in data["workers"]]
    return RunStatus(**values)


def write_status(run_dir: Path, status: RunStatus) -> None:
    """Replace ``RUN/status.json`` atomically; on an OSError the previous file is left intact.

    It fsyncs, so an event loop should call it in a thread (``asyncio.to_thread``).
    """
    text = json.dumps(status_to_dict(status), indent=2, allow_nan=False) + "\n"
    write_text_atomic(status_path(run_dir), text)


def read_status(run_dir: Path) -> dict[str, Any]:
    """The status object in ``RUN/status.json``, checked to be a complete status.

    Raises UsageError, one line naming the file, if it is missing, unreadable or not a status.
    """
    path = status_path(run_dir)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no status yet; is a run using this --logdir?") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the status: {exc.strerror or exc}") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise _corrupt(path, f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _corrupt(path, f"a JSON {type(data).__name__}, not an object")
    _check_schema(path, data.get("schema"))
    try:
        status_from_dict(data)
    except KeyError as exc:
        raise _corrupt(path, f"no key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise _corrupt(path, str(exc)) from exc
    return data


def status_line(status: RunStatus) -> str:
    """One line for progress output, e.g.

    ``running  it 1,234,567/10,000,000  41,230 it/s  elapsed 5m02s/30m  eta 3m31s  workers 2/2``
    """
    iterations = f"it {status.iterations:,}"
    if status.iterations_target is not None:
        iterations += f"/{status.iterations_target:,}"
    elapsed = f"elapsed {format_duration(status.elapsed_s)}"
    if status.time_budget_s is not None:
        elapsed += f"/{_short_duration(status.time_budget_s)}"
    parts = [status.state, iterations, f"{_rate(status.iterations_per_s)} it/s", elapsed]
    if status.eta_s is not None and math.isfinite(status.eta_s):
        parts.append(f"eta {format_duration(status.eta_s)}")
    up = sum(worker.state in UP_SLOT_STATES for worker in status.workers)
    parts.append(f"workers {up}/{len(status.workers)}")
    line = "  ".join(parts)
    memory = (status.table_memory or {}).get("warning")
    why = "; ".join(text for text in (_one_line(status.reason), memory) if text)
    return f"{line}  ({why})" if why else line


# --- Helpers ------------------------------------------------------------------------------------

_Dataclass = TypeVar("_Dataclass", RunStatus, WorkerStatus)


def _check_state(what: str, state: str, allowed: tuple[str, ...]) -> None:
    # A typo in the supervisor would otherwise reach every script that reads the file.
    if state not in allowed:
        raise ValueError(f"unknown {what} {state!r}; expected one of {', '.join(allowed)}")


def _field_values(cls: type[_Dataclass], data: Any) -> dict[str, Any]:
    """The values of ``cls``'s fields in ``data``; a missing required field is a KeyError."""
    if not isinstance(data, Mapping):
        raise TypeError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
    return {
        f.name: data[f.name]
        for f in fields(cls)
        if f.name in data or (f.default is MISSING and f.default_factory is MISSING)
    }


def _check_schema(path: Path, schema: object) -> None:
    if schema == STATUS_SCHEMA_VERSION:
        return
    if isinstance(schema, int) and schema > STATUS_SCHEMA_VERSION:
        raise UsageError(
            f"{path}: status schema {schema} is newer than this holdemd reads "
            f"({STATUS_SCHEMA_VERSION}); upgrade holdemd"
        )
    raise _corrupt(path, f"schema {schema!r}, expected {STATUS_SCHEMA_VERSION}")


def _corrupt(path: Path, detail: str) -> UsageError:
    return UsageError(f"{path}: not a holdemd status file ({_one_line(detail)})")


def _one_line(text: str | None) -> str | None:
    """``text`` with its lines joined by spaces and cut to MAX_ERROR_CHARS."""
    if text is None:
        return None
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


def _tail(text: str | None, limit: int) -> str | None:
    """The end of ``text``: a traceback's last lines name the error."""
    if text is None or len(text) <= limit:
        return text
    return "...\n" + text[-(limit - 4) :]


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and paths as strings, for strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _rate(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None and math.isfinite(value) else "-"


def _short_duration(seconds: float) -> str:
    """A budget as people write it: ``30m``, ``8h``, ``1h30m``, ``5m02s``."""
    text = format_duration(seconds)
    if len(text) > 3 and text.endswith("00s"):
        text = text[:-3]
    if text.endswith("h00m"):
        text = text[:-3]
    return text


def past_runs(root: Path, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` run directories under ``root`` that hold a status, newest first:
    ``run_id``, ``run_dir``, ``state``, ``iterations`` of each."""
    if not root.is_dir():
        return []
    dirs = sorted(
        (d for d in root.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True
    )
    runs = []
    for run_dir in dirs[:limit]:
        try:
            status = read_status(run_dir)
        except UsageError:
            continue
        runs.append(
            {
                "run_id": status["run_id"],
                "run_dir": str(run_dir),
                "state": status["state"],
                "iterations": status["iterations"],
            }
        )
    return runs
