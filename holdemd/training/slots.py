"""Worker slots: spawning, watching and restarting the worker processes.

A slot holds one worker process at a time; each new process in a slot is a new *incarnation*
with a fresh nonce, so messages from an older incarnation are recognized and dropped. Hang
detection keeps liveness (any message arrives) apart from progress (iterations advance), and
asks the kernel for the process's CPU time before calling a silent worker hung: a worker busy
in a long kernel call is not restarted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from holdemd.protocol.worker import NONCE_ENV
from holdemd.rundir.status import SlotState
from holdemd.training.rate import RateMeter

log = logging.getLogger("holdemd.workers")

# Environment passed to workers: what Python, numba and the caches need, nothing else, and one
# thread each (the parallelism is the workers; BLAS or numba threads would oversubscribe).
_KEEP_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "XDG_CACHE_HOME",
    "NUMBA_CACHE_DIR",
    "NUMBA_DISABLE_JIT",
    "PYTHONPATH",
    "VIRTUAL_ENV",
)
_ONE_THREAD = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}


# What runs a worker; ``--endpoint``, ``--slot`` and ``--incarnation`` are appended. Tests
# pass small fake workers instead (tests/fakes/worker.py), so failure handling is tested
# without compiling a kernel and without a fault hook in the real worker.
DEFAULT_WORKER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "holdemd.worker")


def worker_environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in _KEEP_ENV if key in os.environ}
    env.update(_ONE_THREAD)
    return env


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process from /proc, or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Timeouts:
    heartbeat_interval: float = 1.0  # how often workers send heartbeats
    liveness: float = 10.0  # no message at all for this long: suspect
    progress_min: float = 30.0  # no new iterations for this long (at least): suspect
    progress_batches: float = 10.0  # ... or this many typical batch times, if longer
    compile: float = 600.0  # first compile of the kernels on a cold cache
    kill_grace: float = 3.0  # SIGTERM, then SIGKILL after this long
    backoff_first: float = 0.5  # restart delay after the first failure, doubling
    backoff_max: float = 30.0
    failure_window: float = 120.0  # this many failures in this window: the slot gives up
    failures_allowed: int = 5
    garbage_allowed: int = 100  # undecodable frames from one worker before it is restarted


@dataclass
class WorkerSlot:
    slot: int
    incarnation: int = 0
    nonce: str = ""
    process: asyncio.subprocess.Process | None = None
    identity: bytes | None = None  # ZeroMQ routing id, known after hello
    state: SlotState = "starting"
    spawned_at: float = 0.0
    last_message_at: float = 0.0
    last_progress_at: float = 0.0
    incarnation_iterations: int = 0  # from heartbeats of the current incarnation
    merged_iterations: int = 0  # all incarnations, from merged deltas
    batch_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=20))
    cpu_mark: tuple[float, float] | None = None  # (when, cpu seconds)
    busy_warned: bool = False
    restarts: int = 0
    failures: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    last_error: str | None = None  # the latest error of any incarnation, for status
    incarnation_error: str | None = None  # the current incarnation's, to explain its exit
    last_traceback: str | None = None
    rss_bytes: int | None = None
    garbage: int = 0
    pruned: tuple[int, int] = (0, 0)  # (pruned, prunable) actions, from heartbeats
    cpu_reader: Callable[[int], float | None] = cpu_seconds  # tests pass a fake one
    rate: float = 0.0  # iterations/s over the rate meter's window
    rate_meter: RateMeter = field(default_factory=RateMeter)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def typical_batch_seconds(self) -> float:
        if not self.batch_seconds:
            return 0.0
        ordered = sorted(self.batch_seconds)
        return ordered[len(ordered) // 2]

    async def spawn(self, endpoint: str, command: tuple[str, ...] = DEFAULT_WORKER_COMMAND) -> None:
        self.incarnation += 1
        self.nonce = secrets.token_hex(8)
        self.identity = None
        self.state = "starting"
        self.incarnation_iterations = 0
        self.busy_warned = False
        self.cpu_mark = None
        self.garbage = 0
        self.incarnation_error = None
        now = time.monotonic()
        self.spawned_at = self.last_message_at = self.last_progress_at = now
        self.restart_at = None
        self.process = await asyncio.create_subprocess_exec(
            *command,
            "--endpoint",
            endpoint,
            "--slot",
            str(self.slot),
            "--incarnation",
            str(self.incarnation),
            # Not on the command line: /proc/PID/cmdline is readable by every user, environ
            # only by the worker's own uid.
            env={**worker_environment(), NONCE_ENV: self.nonce},
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group: signals reach it and its children
        )
        log.info(
            "worker %d started (pid %d, incarnation %d)",
            self.slot,
            self.process.pid,
            self.incarnation,
        )

    async def kill(self, grace: float) -> None:
        """SIGTERM the worker's process group, SIGKILL it after ``grace`` seconds."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            _signal_group(process, sig)
            if sig == signal.SIGTERM:
                _signal_group(process, signal.SIGCONT)  # a stopped process acts on it only now
            try:
                await asyncio.wait_for(process.wait(), grace)
                return
            except asyncio.TimeoutError:
                continue

    def record_failure(self, reason: str, timeouts: Timeouts, now: float | None = None) -> bool:
        """Note a crash or hang; schedule a restart. False when the slot should give up."""
        now = time.monotonic() if now is None else now
        self.failures.append(now)
        while self.failures and now - self.failures[0] > timeouts.failure_window:
            self.failures.popleft()
        self.last_error = reason
        if len(self.failures) >= timeouts.failures_allowed:
            self.state = "failed"
            self.restart_at = None
            return False
        delay = min(timeouts.backoff_max, timeouts.backoff_first * 2 ** (len(self.failures) - 1))
        self.state = "restarting"
        self.restart_at = now + delay
        return True

    def suspect_reason(self, now: float, timeouts: Timeouts) -> str | None:
        """Why this worker looks hung, or None. A silent worker using CPU is busy, not hung."""
        if self.state in ("compiling", "starting"):
            if now - self.last_message_at > timeouts.compile:
                return f"no message for {now - self.last_message_at:.0f} s while starting"
            return None
        silent = now - self.last_message_at
        if self.state == "paused":
            # A paused worker does no work by design, but it still heartbeats: liveness only.
            return (
                f"no message for {silent:.0f} s while paused"
                if silent > timeouts.liveness
                else None
            )
        if self.state != "running":
            return None
        progress_limit = max(
            timeouts.progress_min, timeouts.progress_batches * self.typical_batch_seconds()
        )
        stalled = now - self.last_progress_at
        if silent <= timeouts.liveness and stalled <= progress_limit:
            self.cpu_mark = None
            return None
        if silent > timeouts.liveness:
            reason = f"no message for {silent:.0f} s"
        else:
            reason = f"no progress for {stalled:.0f} s (limit {progress_limit:.0f} s)"
        cpu = self.cpu_reader(self.pid) if self.pid is not None else None
        if cpu is None:
            return reason  # cannot tell busy from hung: judge by time alone
        if self.cpu_mark is None:
            self.cpu_mark = (now, cpu)
            return None
        since, before = self.cpu_mark
        if now - since < 2.0:
            return None  # judge CPU use over a couple of seconds at least
        self.cpu_mark = (now, cpu)
        if cpu - before > 0.1 * (now - since):
            if not self.busy_warned:
                log.warning("worker %d: %s, but it is using CPU: busy, not hung", self.slot, reason)
                self.busy_warned = True
            return None
        return reason + " and no CPU time used"


def _signal_group(process: asyncio.subprocess.Process, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        process.send_signal(sig)
