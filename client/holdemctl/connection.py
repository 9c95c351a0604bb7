"""A blocking client for the control socket: one request, one reply; or a stream of events."""

from __future__ import annotations

import errno
import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from holdemd.control_protocol import (
    MAX_REPLY_LINE,
    ControlEvent,
    ControlRequest,
    encode_request,
    is_event_line,
    parse_event,
    parse_reply,
)
from holdemd.protocol import E_PERMISSION, ProtocolError
from holdemd.service_paths import socket_candidates


class ClientError(Exception):
    """Any failure; ``exit_code`` is holdemctl's exit code for it."""

    exit_code = 1


class DaemonError(ClientError):
    """The daemon answered with an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.exit_code = 5 if code == E_PERMISSION else 1


class NotRunning(ClientError):
    exit_code = 3


class Timeout(ClientError):
    exit_code = 4


class PermissionDenied(ClientError):
    exit_code = 5


_ids = itertools.count(1)


def find_socket(explicit: str | None) -> Path:
    """The first candidate socket that exists; NotRunning lists what was tried."""
    tried = socket_candidates(explicit)
    for path, _ in tried:
        if path.exists():
            return path
    listing = ", ".join(f"{path} ({origin})" for path, origin in tried)
    raise NotRunning(
        f"no daemon: tried {listing}; start one with `holdemd serve` "
        "(or `systemctl --user start holdemd`), or pass --socket"
    )


class ControlClient:
    """``ControlClient(path, timeout).request("status")`` returns the reply's ``result``.

    Raises DaemonError (an error reply), NotRunning (nothing listens), Timeout (no reply in
    ``timeout`` seconds), PermissionDenied (the socket refused us) or ClientError (a reply we
    cannot read).
    """

    def __init__(self, path: Path, timeout: float | None = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._buffer = b""
        try:
            self._sock.connect(str(path))
        except PermissionError as exc:
            self.close()
            raise PermissionDenied(
                f"{path}: permission denied; run as the daemon's user or a member of its "
                "socket group (holdemd serve --socket-group)"
            ) from exc
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            self.close()
            raise NotRunning(
                f"no daemon listens on {path}; start one with `holdemd serve`"
            ) from exc
        except TimeoutError as exc:
            self.close()
            raise Timeout(f"{path}: connecting timed out after {timeout} s") from exc
        except OSError as exc:
            self.close()
            raise ClientError(f"{path}: {exc.strerror or exc}") from exc

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def request(self, cmd: str, args: dict[str, Any] | None = None) -> Any:
        request_id = next(_ids)
        try:
            self._sock.sendall(encode_request(ControlRequest(request_id, cmd, args or {})))
        except ProtocolError as exc:
            raise ClientError(f"cannot send {cmd}: {exc}") from exc
        except OSError as exc:
            raise self._lost(exc) from exc
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            line = self._read_line(deadline)
            if is_event_line(line):
                continue  # an event for a subscription; this call wants its reply
            try:
                reply = parse_reply(line)
            except ProtocolError as exc:
                raise ClientError(f"unreadable reply from the daemon: {exc}") from exc
            if reply.id not in (request_id, None):
                continue
            if not reply.ok:
                assert reply.error is not None
                raise DaemonError(reply.error.code, reply.error.message)
            return reply.result

    def events(self) -> Iterator[ControlEvent]:
        """Events after a ``subscribe`` request, until the daemon closes the connection."""
        self._sock.settimeout(None)
        while True:
            line = self._read_line(None)
            if is_event_line(line):
                try:
                    yield parse_event(line)
                except ProtocolError as exc:
                    raise ClientError(f"unreadable event from the daemon: {exc}") from exc

    def _read_line(self, deadline: float | None) -> bytes:
        while b"\n" not in self._buffer:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout(f"no reply from {self.path} within {self.timeout} s")
                self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError as exc:
                raise Timeout(f"no reply from {self.path} within {self.timeout} s") from exc
            except OSError as exc:
                raise self._lost(exc) from exc
            if not chunk:
                raise NotRunning(f"the daemon at {self.path} closed the connection")
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_LINE + 1 and b"\n" not in self._buffer:
                raise ClientError(f"reply line over {MAX_REPLY_LINE} bytes")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _lost(self, exc: OSError) -> ClientError:
        if exc.errno in (errno.EPIPE, errno.ECONNRESET):
            return NotRunning(f"the daemon at {self.path} went away")
        return ClientError(f"{self.path}: {exc.strerror or exc}")
