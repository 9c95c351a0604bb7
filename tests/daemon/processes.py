"""Processes and shared memory the daemon tests start, and how to clean them up.

Shared by the supervisor and service end-to-end tests: a test's ``reaper`` fixture kills
whatever holdemd process it left behind (workers are grandchildren of the test, or further
down under a daemon) and unlinks its shared-memory segments, then fails the test if there was
anything to clean.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

SHM = Path("/dev/shm")
# What the reaper may kill: holdemd, its workers, and the fakes that stand in for them.
WORKER_TOOLS = ("holdemd.worker", "holdemd.cli", "holdemd serve", "tests/fakes/")


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, from /proc; None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def alive(pid: int, start: int | None = None) -> bool:
    """The process runs (a zombie has exited) and, given ``start``, is the one we saw."""
    stat = proc_stat(pid)
    return stat is not None and stat[0] != "Z" and (start is None or stat[2] == start)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def descendants(root: int) -> dict[int, int]:
    """pid -> start time of every process below ``root``."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
            starts[int(entry.name)] = stat[2]
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def signal_process(pid: int, start: int, *signals: signal.Signals) -> None:
    """Send ``signals`` to ``pid`` if it is still the process that started at ``start``."""
    for sig in signals:
        if alive(pid, start):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


class Reaper:
    """The processes and shared-memory segments a test started, to clean up after it."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}  # pid -> start time
        self.supervisors: set[int] = {os.getpid()}  # shm segments are named by their pid

    def watch(self, *pids: int) -> None:
        """Remember this process's holdemd descendants now, and ``pids``."""
        for pid, start in descendants(os.getpid()).items():
            if any(tool in command_line(pid) for tool in WORKER_TOOLS):
                self.seen[pid] = start
        for pid in pids:
            if (stat := proc_stat(pid)) is not None:
                self.seen[pid] = stat[2]

    def add_supervisor(self, pid: int) -> None:
        self.supervisors.add(pid)
        self.watch(pid)

    def segments(self) -> list[Path]:
        return [path for pid in self.supervisors for path in SHM.glob(f"holdemd-{pid}-*")]

    def cleanup(self) -> list[str]:
        """Kill what is left and unlink leftover segments; what there was, for the report."""
        self.watch()
        leftovers: list[str] = []
        running = {pid: start for pid, start in self.seen.items() if alive(pid, start)}
        if running and wait_for(lambda: not any(alive(p, s) for p, s in running.items()), 3.0):
            running = {}  # they were on their way out
        for pid, start in running.items():
            leftovers.append(f"process {pid}: {command_line(pid)[:120]}")
            signal_process(pid, start, signal.SIGCONT, signal.SIGKILL)
        wait_for(lambda: not self.segments(), 5.0)  # a killed supervisor's resource tracker
        for path in self.segments():
            leftovers.append(f"shared memory {path}")
            path.unlink(missing_ok=True)
        return leftovers


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
