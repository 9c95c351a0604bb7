"""The control server on its own (no Service, no run): idle connections and descriptor shortage.

The whole daemon under the same pressure: tests/daemon/test_service_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holdemd.protocol.control import ControlRequest
from holdemd.service.connection_limits import ConnectionLimits
from holdemd.service.control_server import Connection, ControlServer
from tests.daemon.processes import wait_for

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="hcs", dir="/tmp"))  # AF_UNIX paths: < 108 bytes
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


async def _handle(request: ControlRequest, conn: Connection) -> Any:
    if request.cmd == "subscribe":
        conn.subscribe(3600.0)
        return {"subscribed": True}
    return {"pong": True}


def _line(cmd: str) -> bytes:
    return json.dumps({"v": 1, "id": 1, "cmd": cmd}).encode() + b"\n"


def test_an_idle_connection_is_closed_but_a_subscriber_stays(runtime: Path) -> None:
    path = runtime / "control.sock"
    idle_seconds = 0.3

    async def scenario() -> None:
        limits = ConnectionLimits(idle_seconds=idle_seconds)
        server = ControlServer(path, _handle, frozenset(), limits=limits)
        await server.start()
        try:
            idle_reader, idle_writer = await asyncio.open_unix_connection(str(path))
            talker_reader, talker_writer = await asyncio.open_unix_connection(str(path))
            watcher_reader, watcher_writer = await asyncio.open_unix_connection(str(path))
            watcher_writer.write(_line("subscribe"))
            assert json.loads(await watcher_reader.readline())["ok"]
            for _ in range(4):  # a request now and then keeps a connection open
                talker_writer.write(_line("ping"))
                assert json.loads(await talker_reader.readline())["ok"]
                await asyncio.sleep(idle_seconds / 2)
            # The daemon hung up on the one that said nothing ...
            assert await asyncio.wait_for(idle_reader.read(), 30) == b""
            assert len(server.connections) == 2
            await asyncio.sleep(3 * idle_seconds)
            # ... but not on the subscriber, which has nothing to ask: it reads events.
            watcher_writer.write(_line("ping"))
            assert json.loads(await watcher_reader.readline())["ok"]
            for writer in (idle_writer, talker_writer, watcher_writer):
                writer.close()
        finally:
            await server.close()
        assert not path.exists()

    asyncio.run(scenario())


# A control server alone in a process with 48 descriptors and no connection limit of its own,
# so that accept() itself runs out (in the daemon the limits keep that from happening).
_STARVED_SERVER = """
import asyncio, logging, resource, sys
from pathlib import Path
from holdemd.service.connection_limits import ConnectionLimits
from holdemd.service.control_server import ControlServer

async def handle(request, conn):
    return {"pong": True}

async def main():
    unlimited = ConnectionLimits(total=10**6, others=10**6, per_uid=10**6)
    server = ControlServer(Path(sys.argv[1]), handle, frozenset(), limits=unlimited)
    await server.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
asyncio.run(main())
"""


def test_out_of_descriptors_accept_backs_off_quietly_and_recovers(runtime: Path) -> None:
    path = runtime / "control.sock"
    errors = runtime / "stderr.log"
    with open(errors, "wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-c", _STARVED_SERVER, str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    clients: list[socket.socket] = []
    try:
        assert server.stdout is not None and server.stdout.readline() == b"ready\n"
        for _ in range(100):  # more than 48 descriptors: the rest wait in the backlog
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            clients.append(client)
            client.settimeout(30)
            client.connect(str(path))
        assert wait_for(lambda: "cannot accept" in errors.read_text(), 60, interval=0.05)
        # Time enough for a loop that retries at once to write thousands of lines.
        wait_for(lambda: False, 1.5, interval=0.1)
        for client in clients:
            client.close()
        clients.clear()
        # Descriptors are free again: a new client is served.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(30)
            client.connect(str(path))
            client.sendall(_line("ping"))
            with client.makefile("rb") as replies:
                assert json.loads(replies.readline())["result"] == {"pong": True}
        assert server.poll() is None
    finally:
        for client in clients:
            client.close()
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    lines = errors.read_text().splitlines()
    assert "out of system resource" not in "\n".join(lines)  # asyncio's own server's line
    assert 1 <= sum("cannot accept control connections" in line for line in lines) <= 5
    assert len(lines) <= 10, lines
