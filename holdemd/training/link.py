"""The supervisor's end of the worker protocol: a ZeroMQ ROUTER on a private ipc:// socket.

Frames are read from an asyncio reader callback on the socket's file descriptor and handed,
one at a time and without an await in between, to ``on_frame``; replies go out with
non-blocking sends. So every handler is plain synchronous code and no merge can interleave
with another. ZeroMQ's descriptor is edge-triggered: a send can consume the edge that
announced a message, so sends and the main loop's tick (:meth:`WorkerLink.poke`) check again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq

from holdemd.protocol.codec import encode
from holdemd.protocol.worker import Message

log = logging.getLogger("holdemd.link")

MAX_BURST = 64  # frames handled per wake-up before the loop lets other tasks run

FrameHandler = Callable[[bytes, bytes], None]  # (routing identity, payload)


class WorkerLink:
    def __init__(self, on_frame: FrameHandler) -> None:
        self.on_frame = on_frame
        remove_dead_runtime_dirs()
        # A directory of our own (0700) for the socket: only this user can connect.
        self.runtime = Path(tempfile.mkdtemp(prefix=f"holdemd-{os.getpid()}-"))
        self.endpoint = f"ipc://{self.runtime / 'workers.sock'}"
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.socket: zmq.Socket[bytes] = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SNDHWM, 0)  # never drop an ack or a stop: peers are few
        self.socket.bind(self.endpoint)
        self._readable = asyncio.Event()

    def send(self, identity: bytes, message: Message) -> None:
        """Send now (a ROUTER never blocks); a peer that is gone gets nothing."""
        with contextlib.suppress(zmq.ZMQError):
            self.socket.send_multipart([identity, encode(message)], zmq.NOBLOCK)
        self.poke()

    def poke(self) -> None:
        """Wake the receive loop if input waits (an edge its reader callback never saw)."""
        if int(self.socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
            self._readable.set()

    async def receive(self) -> None:
        """Hand every frame to ``on_frame`` until cancelled; everything queued is read per
        wake-up, without awaiting between frames."""

        def handle(frames: list[Any]) -> None:
            try:
                self.on_frame(frames[0], frames[-1])
            except Exception:  # a bug must not kill the loop merging everyone's work
                log.exception("error handling a worker message")

        await receive_frames(self.socket, self._readable, handle)

    def close(self) -> None:
        self.socket.close()
        self.context.term()
        for path in self.runtime.iterdir():
            path.unlink(missing_ok=True)
        self.runtime.rmdir()


def remove_dead_runtime_dirs() -> None:
    """Remove the socket directories of supervisors that died without cleaning up (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob("holdemd-*-*"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid() or Path(f"/proc/{pid}").exists():
            continue
        for child in path.glob("*"):
            child.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.rmdir()


async def receive_frames(
    socket: zmq.Socket[bytes],
    readable: asyncio.Event,
    handle: Callable[[list[Any]], None],
    *,
    copy: bool = True,
    burst: int = MAX_BURST,
) -> None:
    """Read ``socket`` until cancelled, handing each multipart message to ``handle`` between
    two awaits (so handlers never interleave); at most ``burst`` per wake-up before the loop
    lets other tasks run. ``readable`` is set by the descriptor's reader callback and by
    whoever sends on the socket (ZeroMQ's descriptor is edge-triggered: a send can consume
    the edge that announced a message). ``copy=False`` gives ``zmq.Frame`` objects (their
    metadata: the peer's address, a CURVE peer's User-Id)."""
    loop = asyncio.get_running_loop()
    fd = int(socket.getsockopt(zmq.FD))
    loop.add_reader(fd, readable.set)
    try:
        while True:
            readable.clear()
            handled = 0
            while handled < burst:
                try:
                    frames = socket.recv_multipart(zmq.NOBLOCK, copy=copy)
                except zmq.Again:
                    break
                handled += 1
                handle(frames)
            if handled == burst:
                await asyncio.sleep(0)  # more waiting: let the other tasks run first
                continue
            # No timeout here (wait_for costs a task per wake-up): the main loop's tick is
            # the safety net for a missed edge.
            await readable.wait()
    finally:
        loop.remove_reader(fd)
