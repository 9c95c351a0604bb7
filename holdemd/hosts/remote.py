"""What the head knows of each extra host (``holdemd node``), and what each still lacks.

A :class:`RemoteHost` is one named host: its session, its state, its counters for status, and
``stale``, the rows its replica lacks the head's current value of (``hosts.feed`` keeps them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from holdemd.hosts.stale_rows import StaleRows
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
    stale: StaleRows | None = None  # while connected
    discounts_seen: int = 0  # the head's discounts sent to it
    sent_while_discounting: list[np.ndarray] = field(default_factory=list)  # rows, per update
    rate_meter: RateMeter = field(default_factory=RateMeter)
    merged_rate: float = 0.0  # iterations/s merged at the head, over the meter's window

    @property
    def connected(self) -> bool:
        return self.state in CONNECTED_STATES

    def start_session(self, session: int, identity: bytes, now: float) -> None:
        self.session = session
        self.identity = identity
        self.state = "joining"
        self.reason = None
        self.sessions += 1
        self.joined_at = self.last_contact = now
        self.last_contact_wall = time.time()
        self.rate_meter.reset()

    def end_session(self, state: HostState, reason: str) -> None:
        self.state = state
        self.reason = reason
        self.stale = None  # its memory goes with the session
        self.sent_while_discounting.clear()
        self.workers_up = 0
        self.rate = self.merged_rate = 0.0

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
