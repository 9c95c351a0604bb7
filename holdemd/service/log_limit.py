"""Log lines that clients can provoke, at a bounded rate.

A client that opens connections as fast as it can (or a descriptor shortage that makes every
``accept`` fail) must not turn the daemon's log into the attack's amplifier: a fault campaign
wrote 287,001 identical lines (59 MB) in a minute. :class:`RateLimitedLog` lets the first few
messages of each kind through per interval, counts the rest, and says how many it held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

LOG_BURST = 5  # messages of one kind let through per interval
LOG_INTERVAL = 60.0  # seconds


@dataclass
class _Window:
    start: float
    level: int
    emitted: int = 0
    suppressed: int = 0


class RateLimitedLog:
    """At most ``burst`` messages per ``key`` in each ``interval`` seconds go to ``logger``; the
    rest are counted, and one line "suppressed K similar messages" reports them when the
    interval ends (at the next message of that key, or at :meth:`flush`, whichever is first).

    ``key`` names a kind of message (a fixed string from the code, never client data), so the
    bookkeeping stays as small as the set of kinds.
    """

    def __init__(
        self,
        logger: logging.Logger,
        burst: int = LOG_BURST,
        interval: float = LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def log(
        self, level: int, key: str, message: str, *args: object, exc_info: bool = False
    ) -> None:
        now = self._clock()
        window = self._windows.get(key)
        if window is not None and now - window.start >= self.interval:
            self._summarize(key, window)
            window = None
        if window is None:
            window = self._windows[key] = _Window(now, level)
        if window.emitted < self.burst:
            window.emitted += 1
            self.logger.log(level, message, *args, exc_info=exc_info)
        else:
            window.suppressed += 1
            window.level = max(window.level, level)

    def flush(self) -> None:
        """Report the windows that have ended: without this, the count of a storm that stopped
        would wait for the next message of its kind, which may never come."""
        now = self._clock()
        for key, window in list(self._windows.items()):
            if now - window.start >= self.interval:
                self._summarize(key, window)
                del self._windows[key]

    def _summarize(self, key: str, window: _Window) -> None:
        if window.suppressed:
            self.logger.log(
                window.level,
                "suppressed %d similar messages (%s) in the last %.0f s",
                window.suppressed,
                key,
                self._clock() - window.start,
            )
