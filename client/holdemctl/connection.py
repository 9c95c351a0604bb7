"""A blocking client for the daemon's control socket (docs/control.md): one request, one reply;
or, after ``subscribe``, a stream of events.

It is a small library as well as holdemctl's transport: the end-to-end tests and the latency
benchmark use it directly::

    with connect(None, timeout=5) as client:         # walks the documented socket candidates
        result = client.request("status")            # the reply's "result", or an exception

Every failure is a :class:`ClientError` subclass whose ``exit_code`` is holdemctl's exit code
and whose ``code`` names it in ``--json`` output (the daemon's E_* code for a DaemonError).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from holdemd.protocol.control import (
    MAX_REPLY_LINE,
    ControlEvent,
    ControlRequest,
    encode_request,
    is_event_line,
    parse_event,
    parse_reply,
)
from holdemd.protocol.errors import E_PERMISSION, ProtocolError
from holdemd.protocol.paths import SOCKET_NAME, socket_candidates, socket_problem

DEFAULT_TIMEOUT: Final = 10.0
START_HINT: Final = "start it with `holdemd serve` or `systemctl --user start holdemd`"
PERMISSION_HINT: Final = (
    "run as the daemon's user or root (mutating commands), or join the socket's group "
    "(read-only commands)"
)
_RECV_BYTES: Final = 65536
# Errors that mean "no daemon behind this path": try the next candidate.
_ABSENT: Final = {
    errno.ENOENT: "no such socket",
    errno.ENOTDIR: "no such socket",
    errno.ECONNREFUSED: "nothing listening (stale socket?)",
}


class ClientError(Exception):
    """Any failure talking to the daemon; ``str()`` is one line for a person."""

    exit_code = 1
    code = "E_CLIENT"  # client-side failures have their own codes, outside the daemon's


class DaemonError(ClientError):
    """The daemon answered with an error reply."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.exit_code = 5 if code == E_PERMISSION else 1


class NotRunning(ClientError):
    """No daemon listens on any candidate socket, or it closed the connection."""

    exit_code = 3
    code = "E_NO_DAEMON"

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason  # a few words for connect()'s listing, e.g. "no such socket"


class Timeout(ClientError):
    """No reply (or no connection) within the timeout."""

    exit_code = 4
    code = "E_TIMEOUT"


class PermissionDenied(ClientError):
    """The socket exists but we may not connect to it, or look into its directory (EACCES)."""

    exit_code = 5
    code = "E_PERMISSION"


class UntrustedSocket(ClientError):
    """The socket's directory lets someone other than the daemon's user replace the socket, so
    whatever answers could be an impostor (protocol.paths.socket_problem, docs/control.md)."""

    exit_code = 5
    code = "E_UNTRUSTED_SOCKET"


_ids = itertools.count(1)  # one id per request, unique within this process
_USE_DEFAULT: Any = object()


class ControlClient:
    """One connection to ``path``; ``ControlClient(path, timeout).request("status")`` returns the
    reply's ``result``.

    ``timeout`` (seconds, None for none) bounds connecting and each request. Raises DaemonError
    (an error reply), NotRunning (nothing listens, or the daemon hung up), Timeout,
    PermissionDenied (EACCES), UntrustedSocket (see socket_problem), or ClientError (a reply we
    cannot read, an OS error).
    """

    def __init__(self, path: Path, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        _check_socket(self.path)
        self.timeout = timeout
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer known to hold no "\n"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(str(self.path))
        except OSError as exc:
            self._sock.close()
            raise _connect_error(self.path, exc) from None
        except BaseException:  # KeyboardInterrupt: close, and let it through unchanged
            self._sock.close()
            raise

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def request(
        self, cmd: str, args: dict[str, Any] | None = None, *, timeout: float | None = _USE_DEFAULT
    ) -> Any:
        """Send ``cmd`` and return the result of its reply; event lines met meanwhile (from an
        earlier ``subscribe``) are skipped. ``timeout`` overrides the client's for this call."""
        limit = self.timeout if timeout is _USE_DEFAULT else timeout
        request_id = next(_ids)
        try:
            line = encode_request(ControlRequest(request_id, cmd, args or {}))
        except ProtocolError as exc:
            raise ClientError(f"cannot send {cmd}: {exc}") from None
        deadline = None if limit is None else time.monotonic() + limit
        try:
            self._sock.settimeout(limit)
            self._sock.sendall(line)
        except TimeoutError:
            raise Timeout(f"the daemon at {self.path} did not take {cmd} in {limit} s") from None
        except OSError as exc:
            raise self._refusal() or self._lost(exc, f"before it answered {cmd}") from None
        while True:
            raw = self._read_line(deadline, f"no reply to {cmd} from {self.path} in {limit} s")
            if is_event_line(raw):
                continue  # an event for a subscription; this call wants its reply
            try:
                reply = parse_reply(raw)
            except ProtocolError as exc:
                raise ClientError(f"unreadable reply from the daemon: {exc}") from None
            if reply.id is not None and reply.id != request_id:
                continue  # the late reply to an earlier request that timed out
            if not reply.ok:
                assert reply.error is not None  # parse_reply guarantees it
                raise DaemonError(reply.error.code, reply.error.message)
            return reply.result

    def subscribe(self, interval: float = 2.0) -> Iterator[ControlEvent]:
        """``subscribe``, then the events until the daemon closes the connection (NotRunning)."""
        self.request("subscribe", {"interval": interval})
        return self.events()

    def events(self) -> Iterator[ControlEvent]:
        """Events after a ``subscribe`` request, with no timeout; stray reply lines are skipped.
        Raises NotRunning when the daemon closes the connection."""
        while True:
            raw = self._read_line(None, "")
            if not is_event_line(raw):
                continue
            try:
                yield parse_event(raw)
            except ProtocolError as exc:
                raise ClientError(f"unreadable event from the daemon: {exc}") from None

    def _read_line(self, deadline: float | None, timeout_message: str) -> bytes:
        """The next line without its ``\\n``; the buffer keeps what follows it."""
        while (end := self._buffer.find(b"\n", self._scanned)) < 0:
            self._scanned = len(self._buffer)
            if self._scanned > MAX_REPLY_LINE + 1:  # + a possible "\r"
                raise ClientError(f"a reply line from the daemon is over {MAX_REPLY_LINE} bytes")
            if deadline is None:
                self._sock.settimeout(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout(timeout_message)
                self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(_RECV_BYTES)
            except TimeoutError:
                raise Timeout(timeout_message) from None
            except OSError as exc:
                raise self._lost(exc, "") from None
            if not chunk:
                raise NotRunning(f"the daemon at {self.path} closed the connection")
            self._buffer += chunk
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        self._scanned = 0
        return line

    def _refusal(self) -> DaemonError | None:
        """The error reply a daemon sends before it closes a connection it turns away (too many
        connections): it may be waiting for us although our request could not be sent."""
        with contextlib.suppress(OSError):
            self._sock.setblocking(False)
            for _ in range(4):  # a refusal is one short line
                chunk = self._sock.recv(_RECV_BYTES)
                if not chunk:
                    break
                self._buffer += chunk
        end = self._buffer.find(b"\n")
        try:
            reply = parse_reply(bytes(self._buffer[:end])) if end >= 0 else None
        except ProtocolError:
            return None
        if reply is None or reply.error is None:
            return None
        return DaemonError(reply.error.code, reply.error.message)

    def _lost(self, exc: OSError, when: str) -> ClientError:
        if exc.errno in (errno.EPIPE, errno.ECONNRESET):
            return NotRunning(f"the daemon at {self.path} went away {when}".rstrip())
        return ClientError(f"{self.path}: {exc.strerror or exc}")


def _check_socket(path: Path) -> None:
    """Raise unless ``path`` is a socket only its daemon's user (or root) could have put there."""
    try:
        problem = socket_problem(path)
    except OSError as exc:
        raise _connect_error(path, exc) from None
    if problem is not None:
        raise UntrustedSocket(f"will not talk to {path}: {problem}")


def _connect_error(path: Path, exc: OSError) -> ClientError:
    """The ClientError for a failed connect."""
    if isinstance(exc, TimeoutError):
        return Timeout(f"connecting to {path} timed out (is the daemon stuck?)")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(f"{path}: permission denied; {PERMISSION_HINT}")
    if exc.errno is None and "too long" in str(exc):  # AF_UNIX paths are at most 107 bytes
        if not path.exists():
            return NotRunning(
                f"no daemon at {path} (no such socket); {START_HINT}", "no such socket"
            )
        return ClientError(
            f"{path}: too long for a Unix socket path; name it through a shorter symlink"
        )
    if exc.errno in _ABSENT:
        reason = _ABSENT[exc.errno]
        return NotRunning(f"no daemon at {path} ({reason}); {START_HINT}", reason)
    return ClientError(f"cannot connect to {path}: {exc.strerror or exc}")


def connect(explicit: str | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> ControlClient:
    """A client connected to the first candidate socket a daemon listens on.

    ``explicit`` is ``--socket`` (a socket, or a runtime directory holding control.sock); without
    it, $HOLDEMD_SOCKET and then the documented defaults are tried. NotRunning names every path
    tried and why it failed; PermissionDenied and Timeout stop the search (a daemon is there).
    """
    candidates = socket_candidates(explicit)
    tried: list[str] = []
    for path, origin in candidates:
        try:
            if path.is_dir():  # `--socket /run/user/1000/holdemd` means the socket in it
                path = path / SOCKET_NAME
        except OSError as exc:  # EACCES: a directory on the way is closed to us
            raise _connect_error(path, exc) from None
        try:
            return ControlClient(path, timeout)
        except NotRunning as exc:
            tried.append(f"{path} ({origin}: {exc.reason})")
    hint = START_HINT if explicit or len(candidates) == 1 else f"{START_HINT}; or pass --socket"
    raise NotRunning(f"no daemon at {', '.join(tried)}; {hint}")
