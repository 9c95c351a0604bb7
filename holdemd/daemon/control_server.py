"""The daemon's end of the control socket: lines in, replies and events out (docs/control.md).

This module knows framing, limits, identities and subscriptions; what a command *does* is the
service's business (a ``Handler``). Every line gets an answer or the connection is closed: a
malformed line is answered with an error, a line over the size limit is answered and then the
connection is dropped (the rest of it cannot be framed), and nothing a client sends can raise
out of here into the daemon's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holdemd.control_protocol import (
    MAX_CONTROL_LINE,
    ControlEvent,
    ControlReply,
    ControlRequest,
    encode_event,
    encode_reply,
    parse_request,
)
from holdemd.daemon.peercred import PeerCredentials, peer_credentials
from holdemd.protocol import E_INTERNAL, E_PERMISSION, E_TOO_LARGE, ProtocolError

log = logging.getLogger("holdemd.control")

EVENT_QUEUE = 256  # events buffered per subscriber; a client that reads slower loses events


@dataclass(eq=False)  # hashed by identity: the server keeps a set of them
class Connection:
    """One client connection; ``events`` is set once it subscribed."""

    peer: PeerCredentials | None
    writer: asyncio.StreamWriter
    events: asyncio.Queue[ControlEvent] | None = None
    stats_interval: float = 2.0
    dropped_events: int = 0
    pump: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one line at a time

    async def send(self, line: bytes) -> None:
        async with self.lock:
            self.writer.write(line)
            await self.writer.drain()

    def subscribe(self, stats_interval: float) -> None:
        self.events = asyncio.Queue(EVENT_QUEUE)
        self.stats_interval = stats_interval


Handler = Callable[[ControlRequest, Connection], Awaitable[Any]]


class CommandError(Exception):
    """Raised by a handler: becomes an error reply with ``code`` (one of the E_* codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ControlServer:
    """Serves ``path``; ``mutating`` commands need the daemon's uid or root, the rest are also
    open to members of the socket's group when ``group`` is set (mode 0660 instead of 0600)."""

    def __init__(
        self, path: Path, handler: Handler, mutating: frozenset[str], group: int | None = None
    ) -> None:
        self.path = path
        self.handler = handler
        self.mutating = mutating
        self.group = group
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The caller holds the daemon lock, so a socket file here is a dead daemon's.
        self.path.unlink(missing_ok=True)
        old = os.umask(0o177)  # created 0600: no window in which others could connect
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_CONTROL_LINE + 2
            )
        finally:
            os.umask(old)
        if self.group is not None:
            os.chown(self.path, -1, self.group)
            os.chmod(self.path, 0o660)
            directory = self.path.parent
            if directory.stat().st_uid == os.getuid():
                # The group must be able to reach the socket: traverse, not list.
                os.chown(directory, -1, self.group)
                os.chmod(directory, directory.stat().st_mode & 0o7777 | 0o010)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self.connections):
                conn.writer.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        self.path.unlink(missing_ok=True)

    def publish(self, event: ControlEvent) -> None:
        """Queue an event for every subscriber; never blocks (a full queue drops the event)."""
        for conn in self.connections:
            if conn.events is None:
                continue
            try:
                conn.events.put_nowait(event)
            except asyncio.QueueFull:
                conn.dropped_events += 1

    def subscribers(self) -> list[Connection]:
        return [c for c in self.connections if c.events is not None]

    # -- one connection ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio hands out a TransportSocket wrapper, which has getsockopt but is no socket.
        sock = writer.get_extra_info("socket")
        peer = peer_credentials(sock) if sock is not None else None
        conn = Connection(peer, writer)
        self.connections.add(conn)
        try:
            await self._read_requests(reader, conn)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        except Exception:  # a bug: this connection ends, the daemon does not
            log.exception("control connection failed")
        finally:
            self.connections.discard(conn)
            if conn.pump is not None:
                conn.pump.cancel()
                self._tasks.discard(conn.pump)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_requests(self, reader: asyncio.StreamReader, conn: Connection) -> None:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                reply = ControlReply.failure(
                    None, E_TOO_LARGE, f"request line over {MAX_CONTROL_LINE} bytes; closing"
                )
                await conn.send(encode_reply(reply))
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():  # a last line without '\n': answer it, then close
                    await conn.send(await self._answer(exc.partial, conn))
                return
            await conn.send(await self._answer(line, conn))
            if conn.events is not None and conn.pump is None:
                # Subscribed: events go out from their own task, after the reply.
                conn.pump = asyncio.create_task(self._pump_events(conn, conn.events))
                self._tasks.add(conn.pump)

    async def _answer(self, line: bytes, conn: Connection) -> bytes:
        try:
            request = parse_request(line)
        except ProtocolError as exc:
            return encode_reply(ControlReply.from_error(exc))
        denied = self._denied(request.cmd, conn.peer)
        if denied is not None:
            return encode_reply(ControlReply.failure(request.id, E_PERMISSION, denied))
        try:
            result = await self.handler(request, conn)
            return encode_reply(ControlReply.success(request.id, result))
        except CommandError as exc:
            return encode_reply(ControlReply.failure(request.id, exc.code, str(exc)))
        except ProtocolError as exc:
            return encode_reply(ControlReply.failure(request.id, exc.code, str(exc)))
        except Exception as exc:  # a daemon bug: log it, answer, keep serving
            log.exception("control command %r failed", request.cmd)
            return encode_reply(
                ControlReply.failure(
                    request.id, E_INTERNAL, f"internal error in {request.cmd}: {exc!r:.200}"
                )
            )

    def _denied(self, cmd: str, peer: PeerCredentials | None) -> str | None:
        me = os.getuid()
        if peer is None:
            # No kernel-checked identity: the socket's mode (owner only) is all we have.
            return None if self.group is None else "cannot read the client's credentials"
        if peer.uid in (me, 0):
            return None
        if cmd in self.mutating:
            return f"{cmd} is allowed only for uid {me} or root (you are uid {peer.uid})"
        if self.group is not None and peer.in_group(self.group):
            return None
        return f"uid {peer.uid} may not use this daemon"

    async def _pump_events(self, conn: Connection, events: asyncio.Queue[ControlEvent]) -> None:
        while True:
            event = await events.get()
            try:
                await conn.send(encode_event(event))
            except ProtocolError:
                log.exception("event could not be encoded")
            except (ConnectionError, RuntimeError):
                return
