"""The training schedule (Pluribus's, REFERENCE.md): when to discount, prune and average.

The supervisor owns the tables, so it applies the schedule between merges: it multiplies
regrets and strategy sums by d = k/(k+1) at the k-th discount point (linear CFR), tells workers
when pruning starts (they skip actions whose regret is below the threshold on most
iterations), clamps merged regrets at the floor, and, when only the first betting round keeps
an average strategy, adds snapshots of the current strategy of later streets into their
strategy-sum rows (so every reader of the tables gets the average of those snapshots).

Every point in the schedule is written either as a duration (``10m``, ``600``, ``2h``) measured
in training time (pauses excluded, resumes included), or as an iteration count (``5000000it``).
A schedule is a pure function of (elapsed seconds, iterations) and of where it was last
checked: the events due by the last check are in the tables, those due after it are not yet.
A snapshot records that position (``ScheduleProgress``), so a resumed run applies what came due
between the last check and the snapshot (a run stopping runs past its last tick) and never
applies a discount twice.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from holdemd.durations import parse_duration
from holdemd.protocol.worker import Settings

_ITERATIONS = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(k|m)?\s*it(?:erations)?\s*$", re.I)
_MULTIPLIERS = {None: 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Clock:
    """A point or a period in the schedule: seconds of training, or iterations."""

    unit: Literal["seconds", "iterations"]
    value: float

    def position(self, elapsed: float, iteration: int) -> float:
        return elapsed if self.unit == "seconds" else float(iteration)

    def __str__(self) -> str:
        if self.unit == "iterations":
            return f"{int(self.value):,} iterations"
        return f"{self.value / 60:g} min"


def parse_clock(value: float | int | str) -> Clock:
    """``"10m"``, ``600`` (seconds) or ``"5000000it"`` / ``"5M it"``; ValueError otherwise."""
    if isinstance(value, str) and (match := _ITERATIONS.match(value)):
        count = float(match.group(1)) * _MULTIPLIERS[(match.group(2) or "").lower() or None]
        return Clock("iterations", count)
    try:
        return Clock("seconds", parse_duration(value))
    except ValueError:
        raise ValueError(
            f"'{value}' is neither a duration (600, 10m, 2h) nor an iteration count (5000000it)"
        ) from None


@dataclass(frozen=True)
class ScheduleProgress:
    """How far a run's schedule got, as its snapshots record it (manifest ``"schedule"``).

    ``elapsed`` and ``iteration`` are where the schedule was last checked: every event due by
    then is in the tables, none due after it. ``average_snapshots`` counts the current-strategy
    snapshots (first-round averaging) queued in the whole run, 0 for a run that never averaged.
    """

    elapsed: float
    iteration: int
    average_snapshots: int

    def manifest(self) -> dict[str, Any]:
        return {
            "checked_elapsed_seconds": self.elapsed,
            "checked_iteration": self.iteration,
            "average_snapshots": self.average_snapshots,
        }

    @classmethod
    def from_manifest(cls, entry: Any) -> ScheduleProgress:
        """The progress a snapshot recorded; ValueError if ``entry`` is not such a record."""
        if not isinstance(entry, dict):
            raise ValueError("'schedule' is not an object")
        elapsed = entry.get("checked_elapsed_seconds")
        if not (
            isinstance(elapsed, (int, float))
            and not isinstance(elapsed, bool)
            and math.isfinite(elapsed)
            and elapsed >= 0
        ):
            raise ValueError(f"'schedule' checked_elapsed_seconds {elapsed!r} is not a duration")
        return cls(
            float(elapsed), _count(entry, "checked_iteration"), _count(entry, "average_snapshots")
        )


def _count(entry: dict[str, Any], key: str) -> int:
    value = entry.get(key)
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise ValueError(f"'schedule' {key} {value!r} is not a count")
    return value


class Schedule:
    """Decides, at a given (elapsed, iteration), which schedule events are due.

    ``utility_scale`` is the game's largest absolute payoff: thresholds and the floor are
    configured as multiples of it, so the same config means the same thing in every game.
    ``regret_unit`` converts utility to regret-table units (integer tables count quanta).
    ``elapsed`` and ``iteration`` are where it was last checked (a resumed run's
    ``ScheduleProgress``): the points up to there count as done.
    """

    def __init__(
        self,
        *,
        discount_interval: Clock | None,
        discount_stop: Clock | None,
        prune_start: Clock | None,
        prune_probability: float,
        prune_threshold: float,
        regret_floor: float | None,
        average: Literal["all", "first_round"],
        average_interval: Clock,
        utility_scale: float,
        num_streets: int,
        regret_unit: float = 1.0,
        elapsed: float = 0.0,
        iteration: int = 0,
    ) -> None:
        self.discount_interval = discount_interval
        self.discount_stop = discount_stop
        self.prune_start = prune_start
        self.prune_probability = prune_probability
        # Both in regret-table units (regret_unit per unit of utility: 1 unless integer tables).
        self.prune_threshold = prune_threshold * utility_scale * regret_unit
        self.regret_floor = (
            None if regret_floor is None else regret_floor * utility_scale * regret_unit
        )
        self.average = average
        self.average_interval = average_interval
        # Later streets are averaged from snapshots only if there are later streets.
        self.snapshot_averaging = average == "first_round" and num_streets > 1
        self.average_streets = 1 if self.snapshot_averaging else 127
        # Whether any point is an iteration count: only then must the supervisor check the
        # schedule on every merge rather than on its tick.
        clocks = [discount_interval, prune_start]
        if self.snapshot_averaging:
            clocks.append(average_interval)
        self.counts_iterations = any(c is not None and c.unit == "iterations" for c in clocks)
        # Events a resumed run's last check applied are not applied again.
        self.discounts_done = self._discount_points(elapsed, iteration)
        self.snapshots_done = self._average_points(elapsed, iteration)

    def _discount_points(self, elapsed: float, iteration: int) -> int:
        clock = self.discount_interval
        if clock is None or clock.value <= 0:
            return 0
        position = clock.position(elapsed, iteration)
        if self.discount_stop is not None:  # the config checks it has the interval's unit
            position = min(position, self.discount_stop.value)
        return math.floor(position / clock.value)

    def _average_points(self, elapsed: float, iteration: int) -> int:
        if not self.snapshot_averaging or self.average_interval.value <= 0:
            return 0
        return math.floor(
            self.average_interval.position(elapsed, iteration) / self.average_interval.value
        )

    def discount_due(self, elapsed: float, iteration: int) -> float | None:
        """The factor to multiply regrets and strategy sums by now, or None.

        At the k-th point the factor is k/(k+1); if several points passed since the last call
        (a long merge, a coarse tick) their product is applied at once.
        """
        points = self._discount_points(elapsed, iteration)
        if points <= self.discounts_done:
            return None
        factor = 1.0
        for k in range(self.discounts_done + 1, points + 1):
            factor *= k / (k + 1)
        self.discounts_done = points
        return factor

    def average_snapshot_due(self, elapsed: float, iteration: int) -> bool:
        points = self._average_points(elapsed, iteration)
        if points <= self.snapshots_done:
            return False
        self.snapshots_done = points
        return True

    def pruning(self, elapsed: float, iteration: int) -> bool:
        start = self.prune_start
        return start is not None and start.position(elapsed, iteration) >= start.value

    def worker_settings(self, elapsed: float, iteration: int) -> Settings:
        """What workers need for their next batches: the worker protocol's own message, so
        the knobs are defined once (the worker maps them onto the kernel's BatchSettings)."""
        prune = self.pruning(elapsed, iteration) and self.prune_probability > 0
        return Settings(
            prune_probability=self.prune_probability if prune else 0.0,
            prune_threshold=self.prune_threshold,
            average_streets=self.average_streets,
        )
