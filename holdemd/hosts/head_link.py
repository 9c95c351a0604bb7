"""A node's connection to its head: a CURVE DEALER, read as messages arrive.

Each (re)connection is a new socket, so nothing queued in an old one reaches the head late; its
monitor turns a refused key into :class:`NodeRefused` (joining again cannot fix it) rather than
a head that seems never to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import zmq
from zmq.utils.monitor import parse_monitor_message

from holdemd.errors import ExitCode, HoldemdError
from holdemd.hosts.curve import client_handshake_problem, secure_client
from holdemd.hosts.keys import NodeKeys
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.host_codec import decode, encode
from holdemd.protocol.hosts import MAX_HOST_MESSAGE_BYTES, HostBeat, HostMessage

log = logging.getLogger("holdemd.node")

HANDSHAKE_EVENTS = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
)


class NodeRefused(HoldemdError):
    """The head refused this node for a reason that joining again cannot fix (exit code 2:
    systemd's unit does not restart it)."""

    exit_code = ExitCode.USAGE


class HeadLost(Exception):
    """The head is gone (silent, or refusing for now): reconnect later."""


class HeadConnection:
    def __init__(self, url: str, keys: NodeKeys) -> None:
        self.url = url
        self.keys = keys  # the node's own pair, and the head's public key it pins
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.socket: zmq.Socket[bytes] | None = None
        self.monitor: zmq.Socket[bytes] | None = None
        self.handshake_warned = False
        self.inbox: asyncio.Queue[HostMessage] = asyncio.Queue()
        self.last_heard = 0.0
        self.bytes_in = 0
        self.bytes_out = 0

    def connect(self) -> None:
        self.close()
        socket = self.context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_HOST_MESSAGE_BYTES)
        secure_client(socket, self.keys)
        # Handshake failures show only here: a refused key would otherwise look like a head
        # that never answers.
        self.monitor = socket.get_monitor_socket(HANDSHAKE_EVENTS)
        self.handshake_warned = False
        socket.connect(self.url)
        self.socket = socket
        # The head's answers are read as they come (an answer waiting a tick would leave the
        # other hosts' work out of this replica that much longer).
        asyncio.get_running_loop().add_reader(int(socket.getsockopt(zmq.FD)), self.drain)

    def check_handshake(self) -> None:
        """A refused key ends the node (joining again cannot fix it); a failed handshake is
        logged once per connection attempt and retried."""
        while self.monitor is not None:
            try:
                event = parse_monitor_message(self.monitor.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                return
            kind, value = int(event["event"]), int(event["value"])
            problem = client_handshake_problem(kind, value, self.keys)
            if problem is None:
                continue
            if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                raise NodeRefused(f"{self.url}: {problem}")
            if not self.handshake_warned:
                log.warning("%s: %s", self.url, problem)
                self.handshake_warned = True

    def close(self, *, term: bool = False) -> None:
        if self.monitor is not None:
            with contextlib.suppress(Exception):
                assert self.socket is not None
                self.socket.disable_monitor()
            self.monitor.close(linger=0)
            self.monitor = None
        if self.socket is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(int(self.socket.getsockopt(zmq.FD)))
            self.socket.close(linger=0)
            self.socket = None
        self.inbox = asyncio.Queue()
        if term:
            self.context.term()

    def send(self, message: HostMessage) -> None:
        assert self.socket is not None
        data = encode(message)
        with contextlib.suppress(zmq.Again):
            self.socket.send(data, zmq.NOBLOCK)  # a full queue: the head is gone; noticed soon
            self.bytes_out += len(data)
        self.drain()  # ZeroMQ's descriptor is edge-triggered: a send can eat the edge

    def drain(self) -> None:
        """Read what the head sent into the inbox (called every tick)."""
        socket = self.socket
        while socket is not None:
            try:
                data = socket.recv(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self.bytes_in += len(data.buffer)
            try:
                message = decode(data.buffer)
            except ProtocolError as exc:
                log.warning("dropped a message from the head: %s", exc)
                continue
            self.last_heard = time.monotonic()
            self.inbox.put_nowait(message)

    async def next(self, timeout: float) -> HostMessage:
        """The head's next message other than a beat; raises HeadLost after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            self.drain()
            self.check_handshake()
            left = deadline - time.monotonic()
            if left <= 0:
                raise HeadLost(f"no answer for {timeout:.0f} s")
            try:
                message = await asyncio.wait_for(self.inbox.get(), min(left, 0.5))
            except asyncio.TimeoutError:
                continue
            if not isinstance(message, HostBeat):
                return message
