"""Peer credentials come from the kernel, for plain sockets and asyncio's wrappers alike."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest

from holdemd.service.peercred import peer_credentials

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_PEERCRED is Linux's")


def test_a_socketpair_peer_is_this_process() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        cred = peer_credentials(left)
    assert cred is not None
    assert (cred.uid, cred.gid, cred.pid) == (os.getuid(), os.getgid(), os.getpid())
    assert cred.in_group(os.getgid())


def test_asyncio_transport_sockets_work_too() -> None:
    async def main() -> object:
        left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        _reader, writer = await asyncio.open_unix_connection(sock=left)
        try:
            return peer_credentials(writer.get_extra_info("socket"))
        finally:
            writer.close()
            right.close()

    cred = asyncio.run(main())
    assert cred is not None and cred.uid == os.getuid()  # type: ignore[attr-defined]
