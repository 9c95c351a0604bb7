"""Training time: what the time budget counts and status reports as ``elapsed_s``.

It carries on from a resumed run, starts when the first worker is ready (compiling kernels is
not training), and stands still while the run is paused.
"""

from __future__ import annotations

import time


class TrainingClock:
    def __init__(self, before: float = 0.0) -> None:
        self.before = before  # trained before this process: a resumed run's elapsed time
        self.started_at: float | None = None  # monotonic time the clock started
        self.paused_seconds = 0.0
        self.paused_since: float | None = None

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def start(self, now: float | None = None) -> None:
        """Training starts now; a pause taken before it does not count against it."""
        self.started_at = time.monotonic() if now is None else now
        self.paused_seconds = 0.0
        if self.paused_since is not None:
            self.paused_since = self.started_at

    def pause(self, now: float | None = None) -> None:
        if self.paused_since is None:
            self.paused_since = time.monotonic() if now is None else now

    def resume(self, now: float | None = None) -> None:
        if self.paused_since is not None:
            now = time.monotonic() if now is None else now
            if self.started_at is not None:
                self.paused_seconds += now - self.paused_since
            self.paused_since = None

    def elapsed(self, now: float | None = None) -> float:
        if self.started_at is None:
            return self.before
        now = time.monotonic() if now is None else now
        paused = self.paused_seconds + (now - self.paused_since if self.paused_since else 0.0)
        return self.before + (now - self.started_at - paused)


class Every:
    """A periodic chore of the main loop: ``due(now)`` is True once per ``seconds`` (never with
    None), the first time ``first`` seconds after ``now``."""

    def __init__(self, seconds: float | None, now: float, first: float | None = None) -> None:
        self.seconds = seconds
        self.next = now + (seconds if first is None else first) if seconds is not None else None

    def due(self, now: float) -> bool:
        if self.next is None or self.seconds is None or now < self.next:
            return False
        self.next = now + self.seconds
        return True
