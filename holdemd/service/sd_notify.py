"""The systemd notify protocol (sd_notify(3)) in plain Python, for ``holdemd serve``.

Under ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``, a Unix datagram socket to which the
service sends newline-separated ``KEY=VALUE`` assignments: ``READY=1`` once it serves,
``STATUS=...`` for ``systemctl status``, ``WATCHDOG=1`` keep-alive pings when the unit sets
``WatchdogSec=`` (then ``$WATCHDOG_USEC`` holds the limit), ``STOPPING=1`` and
``EXTEND_TIMEOUT_USEC=`` while shutting down, ``RELOADING=1`` around a reload.

Without ``$NOTIFY_SOCKET`` (a terminal, launchd, tests) every method is a cheap no-op. A failed
send is logged once and otherwise ignored: the daemon must never die, nor block its event loop
for long, because the service manager went away or is slow.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Mapping

log = logging.getLogger("holdemd.sd_notify")

STATUS_MAX_CHARS = 512  # systemd reads one datagram of a few KiB at most; stay well below
SEND_TIMEOUT_SECONDS = 1.0  # a full socket buffer must not stall the daemon's loop for long


def parse_notify_socket(value: str | None) -> str | None:
    """The address to send to, or None when notification is off or unsupported.

    An absolute path is a filesystem socket; ``@name`` is Linux's abstract namespace (the
    address starts with a NUL byte). Other forms (``vsock:``, relative paths) are not used by
    the service managers we run under and are treated as unset.
    """
    if not value:
        return None
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    log.debug("NOTIFY_SOCKET=%r is not a path or @abstract name; not notifying", value)
    return None


def parse_watchdog_usec(
    usec: str | None, watchdog_pid: str | None, pid: int | None = None
) -> int | None:
    """The watchdog limit in microseconds if it applies to this process, else None.

    ``$WATCHDOG_PID``, when set, names the process the watchdog is meant for; any other
    process (a child that inherited the environment) must not ping.
    """
    if not usec:
        return None
    try:
        limit = int(usec)
    except ValueError:
        log.debug("WATCHDOG_USEC=%r is not an integer; watchdog off", usec)
        return None
    if limit <= 0:
        return None
    if watchdog_pid:
        try:
            meant_for = int(watchdog_pid)
        except ValueError:
            return None
        if meant_for != (os.getpid() if pid is None else pid):
            return None
    return limit


def sanitize_status(text: str) -> str:
    """One line of printable text: STATUS= ends at a newline, and a NUL would cut it short."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > STATUS_MAX_CHARS:
        cleaned = cleaned[: STATUS_MAX_CHARS - 1] + "…"
    return cleaned


class Notifier:
    """Talks to the service manager over ``$NOTIFY_SOCKET``; a no-op when there is none.

    Safe to call from any thread, and from handlers installed with ``loop.add_signal_handler``
    (they run in the loop). Every method returns whether a datagram was sent; callers need not
    look.
    """

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        """``address``: a path, or ``"@name"`` / ``"\\0name"`` for an abstract socket."""
        if address and address.startswith("@"):
            address = parse_notify_socket(address)
        self.address = address or None
        self.watchdog_usec = watchdog_usec if self.address is not None else None
        self._lock = threading.Lock()
        self._failed = False  # the first failure is a warning, later ones are debug noise

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Built from ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID`` (of
        ``os.environ`` unless ``environ`` is given)."""
        env = os.environ if environ is None else environ
        address = parse_notify_socket(env.get("NOTIFY_SOCKET"))
        watchdog = parse_watchdog_usec(env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID"))
        return cls(address, watchdog)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between `watchdog` pings (half the limit, as sd_watchdog_enabled(3)
        advises), or None when there is no watchdog for this process."""
        if self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    # -- messages ------------------------------------------------------------------------

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up, or a reload, is complete. ``MAINPID=`` names this process
        as the main one, in case a wrapper started it."""
        fields = ["READY=1"]
        if status is not None:
            fields.append(f"STATUS={sanitize_status(status)}")
        fields.append(f"MAINPID={os.getpid()}")
        return self.notify(*fields)

    def status(self, text: str) -> bool:
        """``STATUS=``: the one line ``systemctl status`` shows."""
        return self.notify(f"STATUS={sanitize_status(text)}")

    def watchdog(self) -> bool:
        """``WATCHDOG=1``, if there is a watchdog: call it every `watchdog_interval` seconds
        while healthy, never from a timer that keeps running when the work is stuck."""
        if self.watchdog_usec is None:
            return False
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: shutting down; the stop timeout runs (see `extend_timeout`)."""
        fields = ["STOPPING=1"]
        if status is not None:
            fields.append(f"STATUS={sanitize_status(status)}")
        return self.notify(*fields)

    def extend_timeout(self, seconds: float) -> bool:
        """``EXTEND_TIMEOUT_USEC=``: the current start, stop or reload may take ``seconds``
        more from now (never less than the configured timeout); repeat before it runs out to
        keep extending."""
        if not math.isfinite(seconds) or seconds <= 0:
            log.debug("extend_timeout(%r) ignored: not a positive number of seconds", seconds)
            return False
        return self.notify(f"EXTEND_TIMEOUT_USEC={round(seconds * 1_000_000)}")

    def reloading(self, status: str | None = None) -> bool:
        """``RELOADING=1``: a reload started; call `ready` when it is done. Carries
        ``MONOTONIC_USEC=`` (CLOCK_MONOTONIC now), which systemd 253 and later want with it;
        older versions ignore the field."""
        now_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        fields = ["RELOADING=1", f"MONOTONIC_USEC={now_usec}"]
        if status is not None:
            fields.append(f"STATUS={sanitize_status(status)}")
        return self.notify(*fields)

    # -- transport -----------------------------------------------------------------------

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` (``KEY=VALUE`` each) as one datagram. Never raises on a send."""
        if self.address is None or not fields:
            return False
        message = "\n".join(fields).encode("utf-8", "replace")
        with self._lock:
            # A socket per message: a few a minute, and nothing is left open between them.
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(SEND_TIMEOUT_SECONDS)
                    sock.sendto(message, self.address)
            except (OSError, ValueError) as exc:  # timeouts, a socket that is gone, bad paths
                self._report(exc, fields)
                return False
        return True

    def close(self) -> None:
        """Nothing to release (each message has its own socket); kept for callers' symmetry."""

    def _report(self, exc: Exception, fields: tuple[str, ...]) -> None:
        what = fields[0]
        if self._failed:
            log.debug("sd_notify %s to %s failed: %s", what, self._where(), exc)
            return
        self._failed = True
        log.warning(
            "cannot notify the service manager at %s (%s: %s); carrying on without it",
            self._where(),
            what,
            exc,
        )

    def _where(self) -> str | None:
        return self.address.replace("\0", "@", 1) if self.address is not None else None

    def __repr__(self) -> str:
        return f"Notifier(address={self._where()!r}, watchdog_usec={self.watchdog_usec})"
