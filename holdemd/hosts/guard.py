"""The head's gatekeeper: it answers ZAP for the head's CURVE sockets and logs every refusal.

libzmq asks the ZAP handler of a socket's context (``inproc://zeromq.zap.01``) about every
CURVE client of a CURVE server. :class:`HeadSecurity` answers from the head's key directory: a
host key gets in, named by its host (the ``User-Id`` of its messages, read with
:func:`holdemd.hosts.curve.peer_name`); any other key is refused and logged with the client's
address, which ZAP requests carry. A client without CURVE (a plain ZeroMQ client, NULL
mechanism) or one that pins another head's key fails before ZAP is asked; libzmq reports it only
to a socket monitor, and a monitor names the listener, not the peer. So the guard reads the
peer's address from the connection's descriptor when the monitor reports its acceptance; a
connection already closed by then is logged "from an unknown address" rather than guessed at
(a closed descriptor's number may belong to the next connection already). The secured
sockets enforce ZAP: while no guard answers (before ``start``, after ``stop``) they let no
one in, where libzmq's default would let in every key.

Why a thread: ZAP must answer while the head's event loop is busy (a merge, a snapshot), and
the peer must be read while its connection is still open. Answers are dictionary look-ups; the
thread's sockets are its own (ZeroMQ sockets are not thread-safe) and it shares only the
read-only key table and the refusal log.
"""

from __future__ import annotations

import logging
import os
import socket as pysocket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zmq
from zmq.utils import z85
from zmq.utils.monitor import parse_monitor_message

from holdemd.hosts.curve import curve_server
from holdemd.hosts.keys import HeadKeys

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # fixed by the ZAP specification (ZeroMQ RFC 27)
ZAP_VERSION = b"1.0"
# What the monitor reports: accept and disconnect carry the descriptor; a failed handshake is
# reported just before the disconnection it causes, on libzmq's I/O thread (one per context).
MONITORED_EVENTS = (
    zmq.EVENT_ACCEPTED
    | zmq.EVENT_DISCONNECTED
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)
REPEAT_INTERVAL_S = 60.0  # the same refusal (kind, peer) is logged at most once a minute
_ANSWER_TIMEOUT_MS = 10_000  # the guard thread answers its commands in microseconds

Peer = tuple[str, int]  # host, port


def format_peer(peer: Peer | None) -> str:
    if peer is None:
        return "an unknown address"
    host, port = peer
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class RefusalLog:
    """Logs a refusal at once, then the same kind from the same host at most every
    ``interval`` seconds, with the count of those not shown: a client that keeps reconnecting
    (libzmq retries every 0.1 s) must not flood the journal."""

    def __init__(self, log: logging.Logger, interval: float = REPEAT_INTERVAL_S) -> None:
        self.log = log
        self.interval = interval
        self.count = 0
        self.last = ""
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # -> (logged at, not shown)
        self._lock = threading.Lock()  # `count` and `last` are read from the head's thread

    def refused(self, kind: str, host: str, message: str, level: int = logging.WARNING) -> None:
        now = time.monotonic()
        with self._lock:
            self.count += 1
            self.last = message
            logged_at, hidden = self._seen.get((kind, host), (-self.interval, 0))
            if now - logged_at < self.interval:
                self._seen[(kind, host)] = (logged_at, hidden + 1)
                return
            if len(self._seen) > 1024:  # a scan from many addresses: forget old entries
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.interval}
            self._seen[(kind, host)] = (now, 0)
        if hidden:
            message += f" ({hidden} more like it since the last such line)"
        self.log.log(level, message)


@dataclass
class _Listener:
    """What the guard knows of one monitored socket's connections."""

    peers: dict[int, Peer | None] = field(default_factory=dict)  # descriptor -> peer
    failure: tuple[int, int] | None = None  # (event, value) awaiting its DISCONNECTED


class HeadSecurity:
    """ZAP handler and refusal log for the head's TCP sockets.

    ``start()`` before securing any socket, ``secure_server(socket)`` before ``bind``, and
    ``stop()`` before ``context.term()`` (or use it as a context manager).
    """

    def __init__(
        self, context: zmq.Context[Any], keys: HeadKeys, log: logging.Logger | None = None
    ) -> None:
        self.context = context
        self.keys = keys
        self.log = log or logging.getLogger("holdemd.hosts")
        self.refusals = RefusalLog(self.log)
        self._hosts = {z85.decode(key): name for key, name in keys.hosts.items()}
        self._thread: threading.Thread | None = None
        self._control: zmq.Socket[bytes] | None = None
        self._watched: list[zmq.Socket[bytes]] = []
        self._control_endpoint = f"inproc://holdemd-guard-{id(self):x}"

    def __enter__(self) -> HeadSecurity:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind the ZAP handler and start answering; raises RuntimeError if this context has
        a ZAP handler already."""
        if self._thread is not None:
            raise RuntimeError("HeadSecurity.start: already started")
        self._control = self.context.socket(zmq.PAIR)
        self._control.setsockopt(zmq.LINGER, 0)
        self._control.bind(self._control_endpoint)
        self._thread = threading.Thread(target=self._run, name="holdemd-guard", daemon=True)
        self._thread.start()
        answer = self._receive()
        if answer[0] != b"ok":
            self._thread.join()
            self._control.close()
            self._thread = self._control = None
            raise RuntimeError(answer[1].decode())

    def secure_server(self, socket: zmq.Socket[bytes]) -> None:
        """Make ``socket`` a CURVE server with the head's keys, heartbeats and keepalive, and
        log its refused connections. Call it before ``socket.bind``."""
        if self._thread is None:
            raise RuntimeError(
                "HeadSecurity.secure_server before start(): without its ZAP handler the "
                "socket would refuse every host"
            )
        if socket.getsockopt(zmq.LAST_ENDPOINT):
            raise RuntimeError("HeadSecurity.secure_server after bind: secure it first")
        curve_server(socket, self.keys)
        endpoint = f"inproc://holdemd-guard-monitor-{id(self):x}-{len(self._watched)}"
        socket.monitor(endpoint, MONITORED_EVENTS)
        self._send([b"watch", endpoint.encode()])
        self._receive()
        self._watched.append(socket)

    def stop(self) -> None:
        """Stop answering and close the guard's sockets. The secured sockets stay open with
        the connections they have, but take no new one (ZAP is enforced on them)."""
        if self._thread is None:
            return
        for socket in self._watched:
            if not socket.closed:
                socket.disable_monitor()
        self._send([b"stop"])
        self._receive()
        self._thread.join()
        assert self._control is not None
        self._control.close()
        self._thread = self._control = None
        self._watched.clear()

    def _send(self, frames: list[bytes]) -> None:
        assert self._control is not None
        self._control.send_multipart(frames)

    def _receive(self) -> list[bytes]:
        assert self._control is not None
        if not self._control.poll(_ANSWER_TIMEOUT_MS):
            raise RuntimeError("the head's connection guard thread does not answer")
        return self._control.recv_multipart()

    # --- the guard thread ----------------------------------------------------------------------

    def _run(self) -> None:
        control = self.context.socket(zmq.PAIR)
        control.setsockopt(zmq.LINGER, 0)
        control.connect(self._control_endpoint)
        zap = self.context.socket(zmq.REP)
        zap.setsockopt(zmq.LINGER, 0)
        monitors: dict[zmq.Socket[bytes], _Listener] = {}
        try:
            try:
                zap.bind(ZAP_ENDPOINT)
            except zmq.ZMQError as exc:
                reason = f"cannot bind the ZAP handler ({exc}): this context has one already"
                control.send_multipart([b"error", reason.encode()])
                return
            control.send(b"ok")
            poller = zmq.Poller()
            poller.register(control, zmq.POLLIN)
            poller.register(zap, zmq.POLLIN)
            while True:
                for ready, _ in poller.poll():
                    try:
                        if ready is control:
                            if not self._command(control, poller, monitors):
                                return
                        elif ready is zap:
                            self._answer(zap)
                        else:
                            self._read_events(ready, monitors[ready])
                    except Exception:  # a bug must not stop the answers: handshakes would hang
                        self.log.exception("the head's connection guard failed on an event")
        finally:
            for monitor in monitors:
                monitor.close()
            zap.close()
            control.close()

    def _command(
        self,
        control: zmq.Socket[bytes],
        poller: zmq.Poller,
        monitors: dict[zmq.Socket[bytes], _Listener],
    ) -> bool:
        frames = control.recv_multipart()
        if frames[0] == b"watch":
            monitor = self.context.socket(zmq.PAIR)
            monitor.setsockopt(zmq.LINGER, 0)
            monitor.connect(frames[1].decode())
            poller.register(monitor, zmq.POLLIN)
            monitors[monitor] = _Listener()
        control.send(b"ok")
        return frames[0] != b"stop"

    def _answer(self, zap: zmq.Socket[bytes]) -> None:
        """One ZAP request (RFC 27): version, request id, domain, address, identity,
        mechanism, credentials."""
        frames = zap.recv_multipart()
        if len(frames) < 6 or frames[0] != ZAP_VERSION:
            self.log.error("a malformed ZAP request (%d frames): refused", len(frames))
            request_id = frames[1] if len(frames) > 1 else b""
            zap.send_multipart([ZAP_VERSION, request_id, b"400", b"malformed request", b"", b""])
            return
        request_id, address, mechanism = frames[1], frames[3].decode(errors="replace"), frames[5]
        credentials = frames[6:]
        name = None
        if mechanism == b"CURVE" and len(credentials) == 1:
            name = self._hosts.get(credentials[0])
        if name is not None:
            zap.send_multipart([ZAP_VERSION, request_id, b"200", b"OK", name.encode(), b""])
            self.log.debug("host %s connects from %s", name, address)
            return
        zap.send_multipart([ZAP_VERSION, request_id, b"400", b"not an authorized host", b"", b""])
        if mechanism == b"CURVE" and len(credentials) == 1:
            key = z85.encode(credentials[0]).decode("ascii")
            self.refusals.refused(
                "unknown key",
                address,
                f"refused a CURVE connection from {address}: its key {key} is not a host "
                f"key in {self.keys.directory} (to accept the host, put its NAME.key there "
                f"and restart the head)",
            )
        else:
            kind = mechanism.decode(errors="replace")
            self.refusals.refused(
                kind, address, f"refused a {kind} connection from {address}: only CURVE hosts"
            )

    def _read_events(self, monitor: zmq.Socket[bytes], listener: _Listener) -> None:
        batch = []
        while True:
            try:
                batch.append(parse_monitor_message(monitor.recv_multipart(zmq.NOBLOCK)))
            except zmq.Again:
                break
        # A connection whose DISCONNECTED is already queued may be closed: its descriptor
        # number may name another connection by now, so its peer is not read.
        last_disconnect = {
            int(e["value"]): i for i, e in enumerate(batch) if e["event"] == zmq.EVENT_DISCONNECTED
        }
        for i, event in enumerate(batch):
            kind, value = int(event["event"]), int(event["value"])
            listener_endpoint = event["endpoint"].decode(errors="replace")
            if kind == zmq.EVENT_ACCEPTED:
                closed = last_disconnect.get(value, -1) > i
                peer = None if closed else read_peer(value, listener_endpoint)
                listener.peers[value] = peer
                self.log.debug("accepted %s on %s", format_peer(peer), listener_endpoint)
            elif kind in (
                zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
            ):
                listener.failure = (kind, value)
            elif kind == zmq.EVENT_DISCONNECTED:
                peer = listener.peers.pop(value, None)
                if listener.failure is not None:
                    self._refused_handshake(listener.failure, peer, listener_endpoint)
                    listener.failure = None
                else:  # a host left, or its link was cut (heartbeats) or reset
                    self.log.debug("closed %s on %s", format_peer(peer), listener_endpoint)

    def _refused_handshake(self, failure: tuple[int, int], peer: Peer | None, on: str) -> None:
        kind, value = failure
        who = format_peer(peer)
        host = peer[0] if peer is not None else "?"
        if kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:  # reset, or silent past HANDSHAKE_IVL
            reason = os.strerror(value) if value > 0 else "no detail"
            message = f"dropped a connection from {who} on {on} during its handshake ({reason})"
            self.refusals.refused("no handshake", host, message, logging.INFO)
        elif value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            message = (
                f"refused a connection without CURVE from {who} on {on}: a plain ZeroMQ "
                f"client; holdemd nodes connect with --keys"
            )
            self.refusals.refused("no CURVE", host, message)
        elif value in (zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, zmq.PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE):
            message = (
                f"refused a CURVE connection from {who} on {on}: it does not hold this "
                f"head's public key (copy {self.keys.directory}/head.key to that host)"
            )
            self.refusals.refused("wrong head key", host, message)
        else:
            message = f"refused a connection from {who} on {on}: ZMTP error 0x{value:08x}"
            self.refusals.refused(f"0x{value:08x}", host, message)


def read_peer(descriptor: int, listener_endpoint: str) -> Peer | None:
    """The remote address of the TCP connection on ``descriptor`` if it is still one accepted
    by the listener at ``listener_endpoint`` (``tcp://ADDR:PORT``), else None."""
    try:
        port = int(listener_endpoint.rsplit(":", 1)[1])
        duplicate = os.dup(descriptor)
    except (IndexError, ValueError, OSError):
        return None
    try:
        connection = pysocket.socket(fileno=duplicate)
    except OSError:  # not a socket any more
        os.close(duplicate)
        return None
    with connection:  # closes the duplicate only
        if connection.family not in (pysocket.AF_INET, pysocket.AF_INET6):
            return None
        try:
            if connection.getsockname()[1] != port:
                return None
            host, remote_port = connection.getpeername()[:2]
        except OSError:  # not connected any more
            return None
        return str(host), int(remote_port)
