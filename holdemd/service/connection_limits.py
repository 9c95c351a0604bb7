"""How many control connections the daemon keeps open, and for whom.

Every connection costs the daemon a file descriptor, and so do the run's worker pipes, ZeroMQ
sockets, snapshot files and logs. A fault campaign ended a run by opening 20,000 idle
connections as a read-only ``--socket-group`` member: the daemon ran out of descriptors, so
nobody could connect any more and the run froze. So:

* connections take at most half of the daemon's descriptor limit (``RLIMIT_NOFILE``); the run
  keeps the rest, whatever clients do;
* connections from uids other than the daemon's and root's take at most three quarters of
  that, and one such uid at most a quarter of those: the owner and root always have a way in;
* a connection that has not subscribed is closed after ``idle_seconds`` without a request,
  one that does not read its reply after ``reply_seconds``. Subscribers (``holdemctl watch``)
  may stay as long as they like: they count against the limits above.
"""

from __future__ import annotations

import resource
from collections import Counter
from dataclasses import dataclass

MAX_TOTAL = 1024  # more connections than any sane use, however many descriptors there are
MIN_TOTAL = 8
IDLE_SECONDS = 120.0
REPLY_SECONDS = 30.0


@dataclass(frozen=True)
class ConnectionLimits:
    total: int = MAX_TOTAL  # open connections, the owner's and root's included
    others: int = MAX_TOTAL * 3 // 4  # from uids other than the daemon's and root
    per_uid: int = 64  # from any one such uid
    idle_seconds: float = IDLE_SECONDS
    reply_seconds: float = REPLY_SECONDS

    @classmethod
    def for_fd_limit(cls, fd_limit: int) -> ConnectionLimits:
        """Limits for a process that may hold ``fd_limit`` descriptors (negative: unlimited)."""
        total = MAX_TOTAL if fd_limit < 0 else max(MIN_TOTAL, min(MAX_TOTAL, fd_limit // 2))
        others = total * 3 // 4  # the last quarter is kept for the daemon's uid and root
        return cls(total=total, others=others, per_uid=max(2, min(64, others // 4)))

    @classmethod
    def for_this_process(cls) -> ConnectionLimits:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return cls.for_fd_limit(-1 if soft == resource.RLIM_INFINITY else soft)


class Admission:
    """Counts open connections by peer uid (None: unknown, counted as another user's) and
    decides whether one more may be opened."""

    def __init__(self, limits: ConnectionLimits, owner: int) -> None:
        self.limits = limits
        self.privileged = frozenset({owner, 0})
        self.open = 0
        self.from_others = 0
        self.by_uid: Counter[int | None] = Counter()

    def admit(self, uid: int | None) -> str | None:
        """Count a new connection from ``uid`` and return None, or return why it is refused
        (one line for the client) and count nothing."""
        limits = self.limits
        if self.open >= limits.total:
            return f"too many control connections ({self.open}, the limit); try again later"
        if uid not in self.privileged:
            if self.by_uid[uid] >= limits.per_uid:
                return (
                    f"too many control connections from uid {uid} ({limits.per_uid}, the "
                    "limit per user); close some"
                )
            if self.from_others >= limits.others:
                return (
                    f"too many control connections from other users ({limits.others}, the "
                    "limit; the rest are kept for the daemon's user and root); try again later"
                )
            self.from_others += 1
        self.open += 1
        self.by_uid[uid] += 1
        return None

    def release(self, uid: int | None) -> None:
        """A connection :meth:`admit` counted has closed."""
        self.open -= 1
        self.by_uid[uid] -= 1
        if self.by_uid[uid] <= 0:
            del self.by_uid[uid]
        if uid not in self.privileged:
            self.from_others -= 1
