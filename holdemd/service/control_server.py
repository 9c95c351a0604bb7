"""The daemon's end of the control socket: lines in, replies and events out (docs/control.md).

This module knows framing, limits, identities and subscriptions; what a command *does* is the
service's business (a ``Handler``). Every line gets an answer or the connection is closed: a
malformed line is answered with an error, a line over the size limit is answered and then the
connection is dropped (the rest of it cannot be framed), and nothing a client sends can raise
out of here into the daemon's event loop. How many connections stay open, and for how long, is
decided in connection_limits.py; binding and accepting in listener.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holdemd.protocol.control import (
    MAX_CONTROL_LINE,
    ControlEvent,
    ControlReply,
    ControlRequest,
    encode_event,
    encode_reply,
    parse_request,
)
from holdemd.protocol.errors import E_BUSY, E_INTERNAL, E_PERMISSION, E_TOO_LARGE, ProtocolError
from holdemd.service.connection_limits import Admission, ConnectionLimits
from holdemd.service.listener import Listener, refuse
from holdemd.service.log_limit import RateLimitedLog
from holdemd.service.peercred import PeerCredentials, peer_credentials

log = logging.getLogger("holdemd.control")

EVENT_QUEUE = 256  # events buffered per subscriber; a client that reads slower loses events
LOG_FLUSH_SECONDS = 5.0  # how often held-back log lines are counted out


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
    open to members of the socket's group when ``group`` is set (mode 0660 instead of 0600).
    ``limits`` defaults to what the process's descriptor limit affords."""

    def __init__(
        self,
        path: Path,
        handler: Handler,
        mutating: frozenset[str],
        group: int | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.path = path
        self.handler = handler
        self.mutating = mutating
        self.group = group
        self.limits = limits or ConnectionLimits.for_this_process()
        self.admission = Admission(self.limits, os.getuid())
        self.noisy = RateLimitedLog(log)  # for what clients can provoke over and over
        self.connections: set[Connection] = set()
        self._listener = Listener(path, group, self.noisy)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind the socket and start accepting. Raises HoldemdError (another daemon serves this
        socket; the runtime directory is someone else's; the socket cannot be bound)."""
        self._listener.open()
        self._spawn(self._listener.accept_forever(self._accepted))
        self._spawn(self._flush_logs())

    async def close(self) -> None:
        for conn in list(self.connections):
            conn.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._listener.close()

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)  # a reference, or the task may be collected; cancelled by close()
        task.add_done_callback(self._tasks.discard)
        return task

    async def _flush_logs(self) -> None:
        while True:
            await asyncio.sleep(LOG_FLUSH_SECONDS)
            self.noisy.flush()

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

    def _accepted(self, sock: socket.socket) -> None:
        peer = peer_credentials(sock)
        uid = peer.uid if peer is not None else None
        refusal = self.admission.admit(uid)
        if refusal is not None:
            self.noisy.log(
                logging.WARNING,
                "connection refused",
                "refused a control connection from %s: %s",
                "an unknown uid" if uid is None else f"uid {uid}",
                refusal,
            )
            refuse(sock, encode_reply(ControlReply.failure(None, E_BUSY, refusal)))
            return
        self._spawn(self._serve(sock, peer))

    async def _serve(self, sock: socket.socket, peer: PeerCredentials | None) -> None:
        try:
            try:
                reader, writer = await asyncio.open_unix_connection(
                    sock=sock, limit=MAX_CONTROL_LINE + 2
                )
            except BaseException as exc:  # OSError, or cancelled by close(): no leaked socket
                sock.close()
                if isinstance(exc, OSError):
                    return
                raise
            conn = Connection(peer, writer)
            self.connections.add(conn)
            try:
                await self._read_requests(reader, conn)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the client went away
            except Exception:  # a bug: this connection ends, the daemon does not
                self.noisy.log(
                    logging.ERROR, "connection bug", "control connection failed", exc_info=True
                )
            finally:
                self.connections.discard(conn)
                if conn.pump is not None:
                    conn.pump.cancel()
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        finally:
            self.admission.release(peer.uid if peer is not None else None)

    async def _read_requests(self, reader: asyncio.StreamReader, conn: Connection) -> None:
        limits = self.limits
        while True:
            # A subscriber may stay silent for good: it reads events. Anyone else who has
            # nothing to ask for this long gives their descriptor back.
            idle = None if conn.events is not None else limits.idle_seconds
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), idle)
            except asyncio.TimeoutError:
                log.debug("closing a control connection idle for %g s", idle)
                return
            except asyncio.LimitOverrunError:
                too_large = ControlReply.failure(
                    None, E_TOO_LARGE, f"request line over {MAX_CONTROL_LINE} bytes; closing"
                )
                await conn.send(encode_reply(too_large))
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():  # a last line without '\n': answer it, then close
                    await conn.send(await self._answer(exc.partial, conn))
                return
            answer = await self._answer(line, conn)
            try:
                await asyncio.wait_for(conn.send(answer), limits.reply_seconds)
            except asyncio.TimeoutError:  # it asks but does not read: it may not hold us
                log.debug("closing a control connection that left its reply unread")
                return
            if conn.events is not None and conn.pump is None:
                # Subscribed: events go out from their own task, after the reply.
                conn.pump = self._spawn(self._pump_events(conn, conn.events))

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
            self.noisy.log(
                logging.ERROR,
                "command bug",
                "control command %r failed",
                request.cmd,
                exc_info=True,
            )
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
