"""Iterations per second over a sliding window, for progress lines, status and TensorBoard.

Merges arrive in bursts (a HUNL worker sends a batch every second or two), so a rate over the
last second alone swings between 0 and twice the truth, and "0 it/s" reads like a hang.
"""

from __future__ import annotations

from collections import deque

RATE_WINDOW_SECONDS = 10.0


class RateMeter:
    def __init__(self, window: float = RATE_WINDOW_SECONDS) -> None:
        self.window = window
        self.rate = 0.0
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, count: int) -> float:
        """Record ``count`` (a running total) at time ``now``; returns the current rate."""
        samples = self._samples
        samples.append((now, count))
        # Keep the newest sample at least ``window`` old, so the span covers the whole window.
        while len(samples) > 2 and now - samples[1][0] >= self.window:
            samples.popleft()
        since, before = samples[0]
        if now - since >= 1.0:
            self.rate = (count - before) / (now - since)
        return self.rate

    def reset(self) -> None:
        """Forget the samples (after a pause, so the paused time does not count)."""
        self._samples.clear()
        self.rate = 0.0
