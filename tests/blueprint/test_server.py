"""The strategy service (``holdemd blueprint serve``) over real HTTP on loopback: 1,000 random
hunl_quick decisions answered as the Blueprint API and ``strategy show`` answer them; seeded
draws reproducible; every kind of bad input, a huge body and 10,000 junk requests get JSON
errors and the service answers afterwards; the command prints its URL, refuses a bad --listen
in one line and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
import pytest

from holdemd import Blueprint
from holdemd.blueprint.server import MAX_BODY, StrategyServer
from holdemd.cli import main
from holdemd.lookup.show import look_up, lookup_json
from tests.blueprint.hunl_files import ROOT, random_decision, write_hunl

DECISIONS = 1000
JUNK = 10_000
CODES = {400: "E_BAD_REQUEST", 404: "E_NOT_FOUND", 405: "E_METHOD_NOT_ALLOWED", 413: "E_TOO_LARGE"}


class Service:
    """A `StrategyServer` on an ephemeral loopback port, its event loop in a thread."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = StrategyServer(blueprint)
        url = asyncio.run_coroutine_threadsafe(self.server.start("127.0.0.1", 0), self.loop)
        self.url = url.result(timeout=60)
        self.port = int(self.url.rsplit(":", 1)[1])

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=60)
        self.loop.close()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)


@pytest.fixture(scope="module")
def hunl(tmp_path_factory) -> tuple[Path, Path]:
    return write_hunl(tmp_path_factory.mktemp("hunl"))


@pytest.fixture(scope="module")
def service(hunl) -> Iterator[Service]:
    running = Service(Blueprint.open(hunl[1]))
    yield running
    running.close()


@pytest.fixture
def client(service) -> Iterator[http.client.HTTPConnection]:
    connection = service.connect()
    yield connection
    connection.close()


def get(
    connection: http.client.HTTPConnection, path: str, **params: str
) -> tuple[int, dict[str, Any]]:
    connection.request("GET", f"{path}?{urlencode(params, quote_via=quote)}" if params else path)
    response = connection.getresponse()
    assert response.getheader("Content-Type") == "application/json"
    return response.status, json.loads(response.read())


def assert_error(status: int, body: dict[str, Any], expected: int, fragment: str = "") -> None:
    assert status == expected, body
    message = body["error"]["message"]
    assert "\n" not in message and fragment in message, message
    assert body["error"]["code"] == CODES[expected]


def test_a_thousand_decisions_agree_with_the_api_and_show(service, client):
    blueprint = Blueprint.open(service.blueprint.source)  # a second opening: nothing shared
    connection = client
    rng = np.random.default_rng(17)  # test_hunl's decisions, over HTTP
    translated = 0
    for _ in range(DECISIONS):
        hand, board, history = random_decision(blueprint, rng)
        status, body = get(connection, "/v1/strategy", hand=hand, board=board, history=history)
        assert status == 200, body
        expected = blueprint.strategy(hand, board, history)
        shown = lookup_json(blueprint, look_up(blueprint, hand, board, history))
        probabilities = [a["probability"] for a in body["actions"]]
        assert probabilities == expected.probabilities.tolist()
        assert probabilities == [a["probability"] for a in shown["actions"]]
        assert [a["token"] for a in body["actions"]] == [a.token for a in expected.actions]
        assert [a["amount_bb"] for a in body["actions"]] == [a.amount_bb for a in expected.actions]
        assert body["bucket"] == expected.bucket == shown["bucket"]
        assert body["notes"] == list(expected.decision.notes) == shown["notes"]
        assert body["decision"]["tree_history"] == shown["tree_history"]
        assert body.get("branches") == shown.get("branches")
        translated += bool(body["notes"])
    assert translated > 20  # some histories had off-tree sizes


def test_act_draws_as_the_api_and_a_seed_reproduces_it(service, client):
    connection = client
    params = {"hand": "AsKs", "board": "AhKd7c", "history": "r2 c / k b3p"}  # translated
    drawn = set()
    for seed in range(40):
        status, body = get(connection, "/v1/act", **params, seed=str(seed))
        assert status == 200 and body["seed"] == seed
        again = get(connection, "/v1/act", **params, seed=str(seed))[1]
        assert again == body
        action, strategy = service.blueprint.sample(
            np.random.default_rng(seed), "AsKs", "AhKd7c", "r2 c / k b3p"
        )
        assert body["action"]["token"] == action.token
        assert body["action"]["probability"] == float(strategy.probabilities[action.index])
        assert [a["probability"] for a in body["actions"]] == strategy.probabilities.tolist()
        drawn.add((body["decision"]["history"], action.token))
    assert len({history for history, _ in drawn}) == 2  # both branches of the translation
    status, body = get(connection, "/v1/act", hand="AsKs")  # the service's own generator
    assert (
        status == 200
        and body["seed"] is None
        and body["action"]["token"] in {a["token"] for a in body["actions"]}
    )


def test_range_and_info_are_the_apis(service, client):
    connection = client
    status, body = get(connection, "/v1/range", history="r2 c", board="AhKd7c")
    assert status == 200
    ranges = service.blueprint.range("r2 c", board="AhKd7c")
    assert body["hands"] == list(ranges.hands) and len(body["hands"]) == 1326
    assert body["combos"] == ranges.combos.tolist()
    assert [p["seat"] for p in body["players"]] == ["BTN", "BB"]
    for player in body["players"]:
        assert player["reach"] == ranges.reach[player["player"]].tolist()
    assert body["decision"]["seat"] == "BB" and body["decision"]["street"] == "flop"
    status, info = get(connection, "/v1/info")
    assert status == 200
    expected = json.loads(json.dumps(service.blueprint.info()))
    assert {k: info[k] for k in expected} == expected
    assert info["bits"] == 8 and info["game"] == "holdem"
    assert info["service"]["endpoints"]["/v1/act"]["params"] == [
        "seat",
        "hand",
        "board",
        "history",
        "seed",
    ]


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        ("/v1/strategy", {"hand": "AsXs"}, "hand AsXs"),
        ("/v1/strategy", {"hand": "AsAs"}, "duplicate card 'As'"),
        ("/v1/strategy", {"hand": "AsKs", "board": "AhKs7c", "history": "r2 c"}, "Ks"),
        ("/v1/strategy", {"hand": "AsKsQs"}, "hand"),
        ("/v1/strategy", {"hand": "AsKs", "board": "AhKd", "history": "r2 c"}, "3 board cards"),
        ("/v1/strategy", {"hand": "AsKs", "history": "f"}, "no decision is left"),
        ("/v1/strategy", {"hand": "AsKs", "history": "r2 r2"}, "history 'r2 r2'"),
        ("/v1/strategy", {"hand": "AsKs", "history": "zz"}, "unknown action"),
        ("/v1/strategy", {"hand": "AsKs", "history": "r2 c / k / k"}, "history"),
        ("/v1/strategy", {"hand": "AsKs", "seat": "UTG"}, "no such seat"),
        (
            "/v1/strategy",
            {"hand": "AsKs", "seat": "BTN", "history": "r2 c", "board": "AhKd7c"},
            "seat BTN",
        ),
        ("/v1/strategy", {}, "hand: missing"),
        ("/v1/strategy", {"hand": "AsKs", "colour": "red"}, "unknown parameter 'colour'"),
        ("/v1/strategy", {"hand": "AsKs", "seed": "1"}, "unknown parameter 'seed'"),
        ("/v1/range", {"hand": "AsKs"}, "unknown parameter 'hand'"),
        ("/v1/info", {"x": "1"}, "/v1/info takes no parameters"),
        ("/v1/act", {"hand": "AsKs", "seed": "-1"}, "seed '-1'"),
        ("/v1/act", {"hand": "AsKs", "seed": "9" * 5000}, "seed '999"),
        ("/v1/act", {"hand": "AsKs", "seed": str(2**64)}, "expected a whole number"),
        ("/v1/range", {"board": "AhAh", "history": "r2 c"}, "duplicate card"),
    ],
)
def test_bad_input_is_a_json_400(client, path, params, fragment):
    assert_error(*get(client, path, **params), 400, fragment)


def test_unknown_paths_methods_bodies_and_protocol_errors_are_json(service, client):
    connection = client
    assert_error(*get(connection, "/v1/strategy", hand="AsKs", hand2="x"), 400, "hand2")
    connection.request("GET", "/v1/strategy?hand=AsKs&hand=KsKd")
    response = connection.getresponse()
    assert_error(response.status, json.loads(response.read()), 400, "hand: given twice")
    assert_error(*get(connection, "/v2/strategy"), 404, "no such path '/v2/strategy'")
    assert_error(*get(connection, "/"), 404, "/v1/strategy, /v1/act, /v1/range, /v1/info")
    connection.request("POST", "/v1/strategy", body=b'{"hand": "AsKs"}')
    response = connection.getresponse()
    assert response.getheader("Allow") == "GET"
    assert_error(response.status, json.loads(response.read()), 405, "method POST")
    # Bad percent-encoding and invalid UTF-8 in the query are still just bad input.
    connection.request("GET", "/v1/strategy?hand=%ff%fe&board=%zz")
    response = connection.getresponse()
    assert_error(response.status, json.loads(response.read()), 400, "hand")
    # A huge body is refused from its Content-Length, unread; the connection is closed.
    for headers in (f"Content-Length: {100 * MAX_BODY}", "Transfer-Encoding: chunked"):
        with socket.create_connection(("127.0.0.1", service.port), timeout=30) as raw:
            raw.sendall(f"PUT /v1/strategy HTTP/1.1\r\nHost: x\r\n{headers}\r\n\r\n".encode())
            chunk = b"x" * MAX_BODY
            if "chunked" in headers:
                chunk = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            try:
                for _ in range(4):
                    raw.sendall(chunk)
            except OSError:
                pass  # the service closed as soon as it answered
            status, body = read_response(raw)
        assert_error(status, body, 413, f"over {MAX_BODY:,} bytes")
    # What aiohttp's parser refuses (a URL over its 8,190-byte line, a non-HTTP line) is JSON too.
    for request in (
        b"GET /v1/strategy?hand=" + b"A" * 9000 + b" HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01",
    ):
        with socket.create_connection(("127.0.0.1", service.port), timeout=30) as raw:
            raw.sendall(request + b"\r\n\r\n")
            status, body = read_response(raw)
        assert_error(status, body, 400, "malformed HTTP request")
    assert get(connection, "/v1/strategy", hand="AsKs")[0] == 200


def read_response(raw: socket.socket) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of one response on a raw socket (read to its Content-Length: after
    a refused body the service reads and drops what still comes before it closes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = raw.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = raw.recv(65536)
        assert chunk, body
        body += chunk
    return int(head.split(b" ", 2)[1]), json.loads(body)


def junk_requests(rng: np.random.Generator) -> Iterator[tuple[bool, bytes]]:
    """(raw, request): random bytes for a raw socket, or an HTTP GET of a random path or of a
    real path with random parameters."""
    alphabet = "AKQJT98765432shdcxrfkbap./ %?&=+-0123456789[]{}\"'\\"
    for k in range(JUNK):
        kind = k % 4
        if kind == 0:
            yield True, rng.bytes(int(rng.integers(1, 300))) + b"\r\n\r\n"
        elif kind == 1:
            path = "/" + "".join(rng.choice(list(alphabet), size=int(rng.integers(0, 40))))
            yield False, quote(path, safe="/%?&=").encode()
        else:
            path = ("/v1/strategy", "/v1/act", "/v1/range", "/v1/info")[int(rng.integers(4))]
            names = ["hand", "board", "history", "seat", "seed", "junk"]
            params = {
                str(rng.choice(names)): "".join(
                    rng.choice(list(alphabet), size=int(rng.integers(0, 16)))
                )
                for _ in range(int(rng.integers(0, 5)))
            }
            yield False, f"{path}?{urlencode(params, quote_via=quote)}".encode()


def test_ten_thousand_junk_requests_get_json_errors_and_the_service_stays_up(service, client):
    rng = np.random.default_rng(3)
    connection = client
    statuses: dict[int, int] = {}
    for raw, request in junk_requests(rng):
        if raw:
            with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
                sock.sendall(request)
                try:
                    status, body = read_response(sock)
                except ConnectionResetError:
                    continue  # random bytes can close the connection mid-answer
        else:
            connection.request("GET", request.decode())
            response = connection.getresponse()
            status, body = response.status, json.loads(response.read())
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (200, 400, 404), (request, body)
        if status != 200:
            assert "\n" not in body["error"]["message"] and body["error"]["code"], body
    assert statuses[400] > JUNK / 2 and statuses[404] > JUNK / 10, statuses
    status, body = get(connection, "/v1/strategy", hand="AsKs", board="AhKd7c", history="r2 c")
    assert status == 200
    expected = service.blueprint.strategy("AsKs", "AhKd7c", "r2 c").probabilities
    assert [a["probability"] for a in body["actions"]] == expected.tolist()


def test_listen_errors_are_one_line_naming_the_flag(hunl, capsys):
    _, path = hunl
    for listen in ("8080", "localhost", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "h:x"):
        assert main(["blueprint", "serve", str(path), "--listen", listen]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"holdemd: --listen {listen!r}: expected HOST:PORT") and (
            err.count("\n") == 1
        )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        assert main(["blueprint", "serve", str(path), "--listen", listen]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"holdemd: --listen {listen}: cannot listen: ") and err.count("\n") == 1
    assert main(["blueprint", "serve", str(path.parent / "none.bp")]) == 2
    assert "none.bp: no such blueprint file" in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_command_prints_its_url_and_stops_on_a_signal(hunl, reaper, signum):
    _, path = hunl
    command = [sys.executable, "-m", "holdemd.cli", "blueprint", "serve", str(path)]
    process = subprocess.Popen(
        [*command, "--listen", "127.0.0.1:0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reaper.watch(process.pid)
    try:
        line = process.stdout.readline() if process.stdout else ""
        found = re.search(r" at (http://127\.0\.0\.1:(\d+)) ", line)
        assert found and line.startswith("serving holdem, snapshot it-000000000007"), line
        connection = http.client.HTTPConnection("127.0.0.1", int(found.group(2)), timeout=30)
        status, body = get(connection, "/v1/strategy", hand="AKs")
        assert status == 200 and body["bucket_label"] == "AKs"
        connection.close()
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped") and "stopping the strategy service" in err
