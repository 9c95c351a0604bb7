"""The listening end of the control socket: who may bind it, how it is bound, how it accepts.

* ``control.sock.lock`` beside the socket, held with flock for the daemon's life: a second
  daemon pointed at the same runtime directory (with another state directory, so the state
  lock does not stop it) exits naming the holder instead of silently taking the socket over
  and leaving the first one training unreachable.
* The backlog is large: a burst of clients waits in the kernel's queue instead of being
  refused (with asyncio's default of 100, 99 of 200 simultaneous clients were turned away).
* Our own accept loop instead of asyncio's server: when ``accept`` fails for lack of
  descriptors, asyncio's server retries (and logs) on every loop iteration; this one waits,
  longer each time, and says so at a bounded rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from holdemd.errors import HoldemdError, UsageError
from holdemd.protocol.paths import private_dir_problem
from holdemd.service.lock import PidLock
from holdemd.service.log_limit import RateLimitedLog

BACKLOG = 4096  # the kernel caps it at net.core.somaxconn (4096 on Linux >= 5.4)
ACCEPT_BACKOFF_FIRST = 0.05  # seconds; doubled after each failure in a row
ACCEPT_BACKOFF_MAX = 2.0
# accept() failures that concern only the connection being accepted: go on at once.
_CONNECTION_GONE = {errno.ECONNABORTED, errno.EPROTO, errno.EINTR, errno.EAGAIN}


class SocketLock(PidLock):
    """``<socket>.lock``, held while this daemon serves the socket: a second daemon on the
    same runtime directory must not take the socket over."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        super().__init__(
            socket_path.with_name(socket_path.name + ".lock"),
            f"another holdemd serve (pid {{pid}}) serves {socket_path}; stop it "
            f"(holdemctl --socket {socket_path} shutdown) or give this one another --runtime-dir",
        )


class Listener:
    """Binds ``path`` (mode 0600, or 0660 for ``group``) and accepts connections on it."""

    def __init__(self, path: Path, group: int | None, noisy: RateLimitedLog) -> None:
        self.path = path
        self.group = group
        self.noisy = noisy
        self.lock = SocketLock(path)
        self.sock: socket.socket | None = None

    def open(self) -> None:
        directory = self.path.parent
        try:
            problem = private_dir_problem(directory)
        except OSError as exc:
            raise UsageError(f"runtime directory {directory}: {exc.strerror or exc}") from None
        if problem is not None:
            raise UsageError(
                f"runtime directory {problem}, or choose another with --runtime-dir "
                "or $XDG_RUNTIME_DIR"
            )
        try:
            self.lock.acquire()
        except OSError as exc:
            raise HoldemdError(f"cannot lock {self.lock.path}: {exc.strerror or exc}") from None
        try:
            self._bind()
        except OSError as exc:
            self.lock.release()
            raise HoldemdError(
                f"cannot serve {self.path}: {exc.strerror or exc}; choose another with "
                "--runtime-dir"
            ) from None
        except BaseException:
            self.lock.release()
            raise

    def _bind(self) -> None:
        # We hold the socket's lock, so a socket file here is a dead daemon's.
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # created 0600: no window in which others could connect
        try:
            sock.bind(str(self.path))
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(old)
        sock.listen(BACKLOG)
        sock.setblocking(False)
        self.sock = sock
        if self.group is not None:
            os.chown(self.path, -1, self.group)
            os.chmod(self.path, 0o660)
            directory = self.path.parent
            if directory.stat().st_uid == os.getuid():
                # The group must be able to reach the socket: traverse, not list.
                os.chown(directory, -1, self.group)
                os.chmod(directory, directory.stat().st_mode & 0o7777 | 0o010)

    async def accept_forever(self, on_accept: Callable[[socket.socket], None]) -> None:
        """Hand each accepted connection to ``on_accept``; runs until cancelled."""
        assert self.sock is not None, "open() first"
        loop = asyncio.get_running_loop()
        backoff = ACCEPT_BACKOFF_FIRST
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError as exc:
                if exc.errno in _CONNECTION_GONE:
                    continue
                # Out of descriptors (EMFILE, ENFILE) or memory: retrying at once would spin.
                # Connections that end free descriptors; meanwhile clients wait in the backlog.
                self.noisy.log(
                    logging.WARNING,
                    "accept failed",
                    "cannot accept control connections: %s; retrying in %.2f s",
                    exc.strerror or exc,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, ACCEPT_BACKOFF_MAX)
                continue
            backoff = ACCEPT_BACKOFF_FIRST
            on_accept(conn)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self.path.unlink(missing_ok=True)  # only ours: we bound it under the lock
        self.lock.release()


def refuse(conn: socket.socket, line: bytes) -> None:
    """Send ``line`` if the client's buffer takes it at once, then close: never wait for a
    client we are turning away."""
    with contextlib.suppress(OSError):
        conn.setblocking(False)
        conn.send(line)
    conn.close()
