"""CURVE between the head and its nodes, with real sockets on 127.0.0.1 (holdemd/hosts/curve.py,
holdemd/hosts/guard.py): who gets in, how they are named, and what the head logs when it
refuses someone.

"Nothing arrives" is shown by an authorized message sent after the refused attempt, received
first, followed by a short fixed wait in which nothing more comes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

from holdemd.hosts import curve
from holdemd.hosts.curve import (
    client_handshake_problem,
    peer_address,
    peer_name,
    secure_client,
)
from holdemd.hosts.guard import HeadSecurity, RefusalLog
from holdemd.hosts.keys import HeadKeys, NodeKeys, init_keys, load_head_keys, load_node_keys

ARRIVAL_MS = 10_000  # generous: a handshake takes milliseconds
NOTHING_MORE_MS = 200
# A ZMTP 3.0 greeting for the NULL mechanism, as a plain ZeroMQ client sends it.
NULL_GREETING = b"\xff" + bytes(8) + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + bytes(32)


class Records(logging.Handler):
    """The log records of ``holdemd.hosts``, waited for from the test's thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.messages.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, *parts: str) -> str:
        def found() -> str | None:
            return next((m for m in self.messages if all(p in m for p in parts)), None)

        with self.changed:
            self.changed.wait_for(lambda: found() is not None, timeout=ARRIVAL_MS / 1000)
            message = found()
        assert message is not None, f"no log line with {parts}: {self.messages}"
        return message


@dataclasses.dataclass
class Head:
    context: zmq.Context[Any]
    security: HeadSecurity
    router: zmq.Socket[bytes]
    endpoint: str
    keys: HeadKeys
    records: Records
    node: Callable[[NodeKeys | None], zmq.Socket[bytes]]

    def receive(self, timeout_ms: int = ARRIVAL_MS) -> list[zmq.Frame] | None:
        if not self.router.poll(timeout_ms):
            return None
        return self.router.recv_multipart(copy=False)


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    init_keys(tmp_path / "keys", ["alpha", "beta"])
    return tmp_path / "keys"


@pytest.fixture
def head(key_dir: Path) -> Iterator[Head]:
    log = logging.getLogger("holdemd.hosts.test")
    records = Records()
    log.addHandler(records)
    log.setLevel(logging.DEBUG)
    context: zmq.Context[Any] = zmq.Context()
    keys = load_head_keys(key_dir)
    security = HeadSecurity(context, keys, log)
    sockets: list[zmq.Socket[bytes]] = []

    def node(keys: NodeKeys | None) -> zmq.Socket[bytes]:
        """A DEALER connected to the head: CURVE with ``keys``, or plain (NULL) without."""
        dealer = context.socket(zmq.DEALER)
        sockets.append(dealer)
        dealer.setsockopt(zmq.LINGER, 0)
        if keys is not None:
            secure_client(dealer, keys)
        dealer.connect(endpoint)
        return dealer

    try:
        security.start()
        router = context.socket(zmq.ROUTER)
        sockets.append(router)
        router.setsockopt(zmq.LINGER, 0)
        security.secure_server(router)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        endpoint = f"tcp://127.0.0.1:{port}"
        yield Head(context, security, router, endpoint, keys, records, node)
    finally:
        for sock in sockets:
            sock.close()
        security.stop()
        context.term()
        log.removeHandler(records)


def assert_only_authorized_arrives(head: Head, key_dir: Path) -> None:
    """An authorized node's message is the first and only one the head receives."""
    alpha = head.node(load_node_keys(key_dir, "alpha"))
    alpha.send(b"authorized")
    frames = head.receive()
    assert frames is not None and frames[-1].bytes == b"authorized"
    assert peer_name(frames[-1]) == "alpha"
    assert head.receive(NOTHING_MORE_MS) is None


def test_authorized_nodes_reach_the_head_named_by_their_keys(head, key_dir):
    for name in ("alpha", "beta"):
        head.node(load_node_keys(key_dir, name)).send(f"hello from {name}".encode())
    received = {}
    for _ in range(2):
        frames = head.receive()
        assert frames is not None
        received[peer_name(frames[-1])] = frames[-1].bytes
        assert peer_address(frames[-1]) == "127.0.0.1"
    assert received == {"alpha": b"hello from alpha", "beta": b"hello from beta"}
    head.records.wait_for("host alpha connects from 127.0.0.1")
    assert head.security.refusals.count == 0


def test_an_unknown_key_is_refused_and_logged(head, key_dir):
    public, secret = zmq.curve_keypair()  # pins the right head, but no host of this head
    stranger = dataclasses.replace(load_node_keys(key_dir, "alpha"), public=public, secret=secret)
    node = head.node(stranger)
    monitor = node.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    try:
        node.send(b"let me in")
        message = head.records.wait_for(
            "refused a CURVE connection from 127.0.0.1", public.decode()
        )
        assert f"is not a host key in {key_dir}" in message
        assert monitor.poll(ARRIVAL_MS)  # the node learns why, too
        event = recv_monitor_message(monitor)
        problem = client_handshake_problem(event["event"], event["value"], stranger)
        assert problem is not None and problem.startswith("the head refused host alpha's key")
        assert_only_authorized_arrives(head, key_dir)
    finally:
        node.disable_monitor()
        monitor.close()
    assert head.security.refusals.count == 1


def test_a_plain_null_client_is_refused_and_logged_with_its_address(head, key_dir):
    head.security.refusals.interval = 0.0  # log each refusal: both clients come from 127.0.0.1
    head.node(None).send(b"no curve")
    head.records.wait_for("refused a connection without CURVE from", f"on {head.endpoint}")
    # A raw client that waits for the head to see it before greeting: its address is known.
    host, port = head.endpoint.removeprefix("tcp://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        mine = f"127.0.0.1:{raw.getsockname()[1]}"
        head.records.wait_for(f"accepted {mine} on {head.endpoint}")
        raw.sendall(NULL_GREETING)
        head.records.wait_for(f"refused a connection without CURVE from {mine}")
    assert_only_authorized_arrives(head, key_dir)


def test_a_node_pinning_another_head_key_never_connects(head, key_dir):
    other_head, _ = zmq.curve_keypair()
    misled = dataclasses.replace(load_node_keys(key_dir, "alpha"), head_public=other_head)
    node = head.node(misled)
    monitor = node.get_monitor_socket(
        zmq.EVENT_HANDSHAKE_SUCCEEDED
        | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
        | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
        | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    )
    try:
        node.send(b"misled")
        head.records.wait_for("does not hold this head's public key", str(key_dir / "head.key"))
        assert monitor.poll(ARRIVAL_MS)
        event = recv_monitor_message(monitor)
        assert event["event"] != zmq.EVENT_HANDSHAKE_SUCCEEDED
        problem = client_handshake_problem(event["event"], event["value"], misled)
        assert problem is not None and f"{key_dir / 'head.key'} is not that head's" in problem
        assert_only_authorized_arrives(head, key_dir)
    finally:
        node.disable_monitor()
        monitor.close()


def test_after_stop_the_head_takes_no_new_connection(head, key_dir):
    """libzmq's CURVE server without a ZAP handler would let in any key: not ours."""
    head.node(load_node_keys(key_dir, "alpha")).send(b"before stop")
    frames = head.receive()
    assert frames is not None and frames[-1].bytes == b"before stop"
    head.security.stop()
    public, secret = zmq.curve_keypair()
    stranger = dataclasses.replace(load_node_keys(key_dir, "beta"), public=public, secret=secret)
    head.node(stranger).send(b"after stop")
    head.node(load_node_keys(key_dir, "beta")).send(b"after stop")
    assert head.receive(NOTHING_MORE_MS) is None


def test_the_head_answers_zap_while_its_asyncio_loop_waits(head, key_dir):
    """The head reads its ROUTER from an asyncio reader, as training/link.py does: the guard's
    thread answers the handshake without the loop's help."""

    async def first_message() -> list[zmq.Frame]:
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        fd = head.router.getsockopt(zmq.FD)
        loop.add_reader(fd, readable.set)
        try:
            head.node(load_node_keys(key_dir, "beta")).send(b"async")
            while not head.router.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                readable.clear()
                await asyncio.wait_for(readable.wait(), ARRIVAL_MS / 1000)
            return head.router.recv_multipart(copy=False)
        finally:
            loop.remove_reader(fd)

    frames = asyncio.run(first_message())
    assert (peer_name(frames[-1]), frames[-1].bytes) == ("beta", b"async")


def test_both_ends_set_heartbeats_and_keepalive(head, key_dir):
    node = head.node(load_node_keys(key_dir, "alpha"))
    for sock in (head.router, node):
        assert sock.getsockopt(zmq.HEARTBEAT_IVL) == curve.HEARTBEAT_IVL_MS
        assert sock.getsockopt(zmq.HEARTBEAT_TIMEOUT) == curve.HEARTBEAT_TIMEOUT_MS
        assert sock.getsockopt(zmq.TCP_KEEPALIVE) == 1
        assert sock.getsockopt(zmq.TCP_KEEPALIVE_IDLE) == curve.TCP_KEEPALIVE_IDLE_S
    assert head.router.getsockopt(zmq.CURVE_SERVER) == 1
    assert head.router.getsockopt(zmq.ZAP_ENFORCE_DOMAIN) == 1
    assert node.getsockopt(zmq.CURVE_SERVER) == 0


def test_a_server_is_not_secured_without_its_zap_handler(key_dir):
    context: zmq.Context[Any] = zmq.Context()
    router = context.socket(zmq.ROUTER)
    keys = load_head_keys(key_dir)
    try:
        with pytest.raises(RuntimeError, match="before start"):
            HeadSecurity(context, keys).secure_server(router)
        with HeadSecurity(context, keys) as security:
            with pytest.raises(RuntimeError, match="has one already"):
                HeadSecurity(context, keys).start()
            router.bind("tcp://127.0.0.1:*")
            with pytest.raises(RuntimeError, match="after bind"):
                security.secure_server(router)
    finally:
        router.close()
        context.term()


def test_a_repeated_refusal_is_counted_not_repeated():
    log = logging.getLogger("holdemd.hosts.test.repeats")
    records = Records()
    log.addHandler(records)
    try:
        refusals = RefusalLog(log, interval=3600.0)
        for _ in range(3):
            refusals.refused("no CURVE", "10.0.0.7", "refused 10.0.0.7")
        refusals.refused("no CURVE", "10.0.0.8", "refused 10.0.0.8")
        assert records.messages == ["refused 10.0.0.7", "refused 10.0.0.8"]
        refusals.interval = 0.0  # the interval has passed
        refusals.refused("no CURVE", "10.0.0.7", "refused 10.0.0.7")
        assert records.messages[-1] == "refused 10.0.0.7 (2 more like it since the last such line)"
        assert refusals.count == 5
    finally:
        log.removeHandler(records)
