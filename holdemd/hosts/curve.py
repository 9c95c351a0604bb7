"""CURVE and link options for the hosts' ZeroMQ TCP sockets, and who sent a message.

Every TCP socket between the head and its nodes is encrypted and authenticated with CURVE: the
head's ROUTER is a CURVE server (:meth:`holdemd.hosts.guard.HeadSecurity.secure_server`, which
also answers its ZAP requests: only the hosts in its key directory get in); each node's DEALER
is a CURVE client pinned to the head's public key (:func:`secure_client`). Both ends send ZMTP
heartbeats and use TCP keepalive, so a cut link is noticed in seconds, not at the kernel's
two-hour keepalive or fifteen-minute retransmission limits.

Set options before ``bind``/``connect``: libzmq reads them when a connection starts.
"""

from __future__ import annotations

import zmq

from holdemd.hosts.keys import HeadKeys, NodeKeys

# ZMTP heartbeats: a PING every second; a peer from which no whole frame (a PONG, or data)
# arrives for five seconds is disconnected, on both ends (TTL tells the peer the same limit).
# libzmq resets the timer per *decoded frame*, and a PONG waits behind the frame being sent: a
# single frame that takes more than ~5 s on the wire drops the link. Send big payloads (a whole
# table) as frames of at most MAX_FRAME_BYTES: 0.3 s at 1 Gbit/s, 3 s at 100 Mbit/s.
HEARTBEAT_IVL_MS = 1_000
HEARTBEAT_TIMEOUT_MS = 5_000
HEARTBEAT_TTL_MS = 5_000
MAX_FRAME_BYTES = 32 * 2**20
# TCP keepalive, for a connection whose ZeroMQ engine is idle (e.g. mid-handshake): probes
# after 5 s of silence, every second, 5 unanswered ones close it.
TCP_KEEPALIVE_IDLE_S = 5
TCP_KEEPALIVE_INTVL_S = 1
TCP_KEEPALIVE_CNT = 5
# A connection that has not finished its handshake after this long is closed (libzmq's default
# is 30 s): a silent port scanner does not hold a slot that long.
HANDSHAKE_IVL_MS = 10_000
# A node reconnects after 0.1 s, backing off to one attempt every 2 s while the head is away.
RECONNECT_IVL_MS = 100
RECONNECT_IVL_MAX_MS = 2_000
# The ZAP domain of the head's sockets: the ZAP handler sees it in every request.
ZAP_DOMAIN = "holdemd"


def link_options(socket: zmq.Socket[bytes]) -> None:
    """Heartbeats, keepalive and handshake limit: what both ends of a host link set."""
    socket.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
    socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
    socket.setsockopt(zmq.HEARTBEAT_TTL, HEARTBEAT_TTL_MS)
    socket.setsockopt(zmq.TCP_KEEPALIVE, 1)
    socket.setsockopt(zmq.TCP_KEEPALIVE_IDLE, TCP_KEEPALIVE_IDLE_S)
    socket.setsockopt(zmq.TCP_KEEPALIVE_INTVL, TCP_KEEPALIVE_INTVL_S)
    socket.setsockopt(zmq.TCP_KEEPALIVE_CNT, TCP_KEEPALIVE_CNT)
    socket.setsockopt(zmq.HANDSHAKE_IVL, HANDSHAKE_IVL_MS)


def secure_client(socket: zmq.Socket[bytes], keys: NodeKeys) -> None:
    """Make ``socket`` a CURVE client with the node's pair, accepting only the head whose public
    key is ``keys.head_public``: a server with another key fails the handshake (the node never
    connects), and the head's ZAP handler checks the node's key in turn."""
    socket.setsockopt(zmq.CURVE_SECRETKEY, keys.secret)
    socket.setsockopt(zmq.CURVE_PUBLICKEY, keys.public)
    socket.setsockopt(zmq.CURVE_SERVERKEY, keys.head_public)
    socket.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
    socket.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)
    link_options(socket)


def client_handshake_problem(event: int, value: int, keys: NodeKeys) -> str | None:
    """What a node should tell its user when the monitor of its link to the head reports
    ``event`` (``value`` is the event's value), or None for events that are no handshake
    failure. The head logs its side of each refusal too."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        # The head sent ERROR: libzmq does not reconnect this socket by itself after that.
        return (
            f"the head refused host {keys.name}'s key (ZAP status {value}): copy "
            f"{keys.name}.key into the head's key directory (or run holdemd keys init DIR "
            f"--hosts {keys.name} there, and copy the new {keys.name}.key_secret here), then "
            f"restart the head"
        )
    if event in (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL):
        # What a head with another key looks like from here: it closes during the handshake.
        return (
            f"the CURVE handshake with the head failed; if this repeats, "
            f"{keys.directory / 'head.key'} is not that head's public key (compare "
            f"holdemd keys list on both machines)"
        )
    return None


def curve_server(socket: zmq.Socket[bytes], keys: HeadKeys) -> None:
    """The head's side of CURVE; :meth:`~holdemd.hosts.guard.HeadSecurity.secure_server` calls
    it and answers the ZAP requests that decide who gets in."""
    socket.setsockopt(zmq.CURVE_SERVER, 1)
    socket.setsockopt(zmq.CURVE_SECRETKEY, keys.secret)
    socket.setsockopt(zmq.CURVE_PUBLICKEY, keys.public)
    socket.setsockopt_string(zmq.ZAP_DOMAIN, ZAP_DOMAIN)
    # Without a ZAP handler in the context, libzmq's CURVE server lets in ANY client that
    # knows the server's public key (every host has head.key); enforced, it lets in none.
    socket.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, 1)
    link_options(socket)


def peer_name(frame: zmq.Frame) -> str:
    """The host name of the connection ``frame`` came by, as the head's ZAP handler named it
    from the host's key. Receive with ``recv_multipart(copy=False)`` to get frames."""
    try:
        name = frame.get("User-Id")
    except zmq.ZMQError as exc:  # no metadata: the frame was not received on a secured socket
        raise LookupError("this frame carries no User-Id: was its socket secured?") from exc
    if not isinstance(name, str) or not name:
        raise LookupError("this frame's User-Id is empty: its socket had no ZAP handler")
    return name


def peer_address(frame: zmq.Frame) -> str:
    """The IP address of the host ``frame`` came from (for status and logs)."""
    try:
        address = frame.get("Peer-Address")
    except zmq.ZMQError:  # not a TCP connection's frame
        return ""
    return address if isinstance(address, str) else ""
