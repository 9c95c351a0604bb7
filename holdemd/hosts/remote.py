"""What the head knows of each extra host (``holdemd node``), and what each still lacks.

A :class:`RemoteHost` is one named host: its session, its state, its counters for status, and
``stale``, a flag per table row that the host's replica does not have the head's current value
of. Every merge (a local worker's or a host's) and every regret pass flags the rows it changes
for every connected host; an update sends flagged rows' values and clears their flags. A new
session flags every row: joining is fetching the whole table through the same path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from holdemd.training.rate import RateMeter

HostState = Literal["joining", "syncing", "running", "stopped", "lost", "refused", "left"]
CONNECTED_STATES: tuple[HostState, ...] = ("joining", "syncing", "running", "stopped")


@dataclass
class RemoteHost:
    name: str
    index: int  # 1, 2, ...: stable per name for the run (RNG streams)
    identity: bytes = b""  # the ROUTER's routing id of its current connection
    session: int = 0
    state: HostState = "joining"
    address: str = ""
    num_workers: int = 0
    workers_up: int = 0
    rate: float = 0.0  # the node's own figure, iterations/s
    joined_at: float = 0.0
    last_contact: float = 0.0  # time.monotonic()
    last_contact_wall: float = 0.0  # time.time(), for status
    bytes_in: int = 0
    bytes_out: int = 0
    iterations: int = 0  # merged from this host, all sessions
    deltas: int = 0
    sessions: int = 0
    reason: str | None = None  # why lost, refused or left
    stale: np.ndarray | None = None  # bool[num_rows] while connected
    rate_meter: RateMeter = field(default_factory=RateMeter)
    merged_rate: float = 0.0  # iterations/s merged at the head, over the meter's window

    @property
    def connected(self) -> bool:
        return self.state in CONNECTED_STATES

    def start_session(self, session: int, identity: bytes, num_rows: int, now: float) -> None:
        self.session = session
        self.identity = identity
        self.state = "joining"
        self.reason = None
        self.sessions += 1
        self.joined_at = self.last_contact = now
        self.last_contact_wall = time.time()
        self.stale = np.ones(num_rows, dtype=bool)
        self.rate_meter.reset()

    def end_session(self, state: HostState, reason: str) -> None:
        self.state = state
        self.reason = reason
        self.stale = None  # its memory goes with the session
        self.workers_up = 0
        self.rate = self.merged_rate = 0.0

    def take_stale(self, limit: int) -> tuple[np.ndarray, int]:
        """Up to ``limit`` flagged rows (lowest first), unflagged; and how many stay flagged."""
        assert self.stale is not None
        rows = np.flatnonzero(self.stale)
        taken, remaining = rows[:limit], int(rows.size - min(rows.size, limit))
        self.stale[taken] = False
        return taken, remaining

    def status(self, now: float) -> dict[str, Any]:
        """The host as status.json's ``hosts`` list shows it."""
        return {
            "name": self.name,
            "address": self.address,
            "state": self.state,
            "reason": self.reason,
            "workers": self.workers_up,
            "num_workers": self.num_workers,
            "iterations_per_s": round(self.merged_rate, 1),
            "iterations": self.iterations,
            "last_contact_s": round(now - self.last_contact, 1) if self.last_contact else None,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "sessions": self.sessions,
        }
