"""A progress line on stderr for long builds, without dependencies.

On a terminal the line is redrawn in place (``\\r``) a few times a second; otherwise (a log
file, CI) a full line is printed every few seconds, so logs stay short but show the build is
alive.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from holdemd.durations import format_duration

_TTY_INTERVAL = 0.2
_LOG_INTERVAL = 5.0
_BAR_WIDTH = 24


class Progress:
    """Progress of one phase: ``update(done)`` as work completes, ``close()`` at the end."""

    def __init__(
        self, label: str, total: int, *, enabled: bool = True, stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.enabled and self.stream.isatty()
        self.started = time.monotonic()
        self._last = -float("inf")
        self._done = 0
        # The rate is measured from the first update on, so a kernel's compile time (before
        # it) does not inflate the estimate.
        self._first: tuple[float, int] | None = None
        if self.enabled and not self.tty:
            print(f"{self.label}: started", file=self.stream, flush=True)

    def update(self, done: int) -> None:
        self._done = min(done, self.total)
        now = time.monotonic()
        if self._first is None:
            self._first = (now, self._done)
        if self.enabled and now - self._last >= (_TTY_INTERVAL if self.tty else _LOG_INTERVAL):
            self._last = now
            self._draw(now, final=False)

    def close(self) -> float:
        """Finish the line; returns the phase's seconds."""
        now = time.monotonic()
        self._done = self.total
        if self.enabled:
            self._draw(now, final=True)
        return now - self.started

    def _draw(self, now: float, *, final: bool) -> None:
        elapsed = now - self.started
        fraction = self._done / self.total
        if final:
            text = f"{self.label}: done in {format_duration(elapsed)}"
        else:
            eta_text = "estimating"
            if self._first is not None and self._done > self._first[1]:
                rate = (self._done - self._first[1]) / max(now - self._first[0], 1e-9)
                eta_text = f"~{format_duration((self.total - self._done) / rate)} left"
            filled = round(_BAR_WIDTH * fraction)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            text = (
                f"{self.label}: [{bar}] {100 * fraction:5.1f}%  "
                f"{format_duration(elapsed)} elapsed, {eta_text}"
            )
        if self.tty:
            end = "\n" if final else ""
            print(f"\r{text}\x1b[K", end=end, file=self.stream, flush=True)
        else:
            print(text, file=self.stream, flush=True)
