"""The strategy service: `holdemd.blueprint.endpoints` over HTTP/JSON, on aiohttp.

aiohttp's low-level server (``web.Server``): four fixed GET paths need no router, middleware
or application, and every answer, the protocol's own included, is JSON:

* a request line or header aiohttp's parser refuses (random bytes, a URL over 8,190 bytes) gets
  ``400 {"error": {"code": "E_BAD_REQUEST", ...}}`` from `_JsonErrorProtocol` instead of
  aiohttp's text page, and the connection is closed;
* a body over `MAX_BODY` is ``413 E_TOO_LARGE`` (the service takes query parameters only), any
  other method than GET ``405 E_METHOD_NOT_ALLOWED``, a bug ``500 E_INTERNAL`` (logged).

Look-ups take microseconds (the card abstraction is loaded and the paths warmed at start), so
they run in the event loop: a thread pool would add a hand-off per request and, with the GIL,
no parallelism. Junk is logged at debug level only, so a scanner cannot flood the log.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from holdemd.blueprint.endpoints import (
    E_METHOD_NOT_ALLOWED,
    Answer,
    Endpoints,
    error,
)
from holdemd.protocol.errors import E_BAD_REQUEST, E_INTERNAL, E_TOO_LARGE

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint

log = logging.getLogger("holdemd.blueprint.server")

MAX_BODY = 64 * 1024  # a GET has no body; anything larger is refused unread
KEEPALIVE_S = 75.0  # an idle client connection is closed after this
SHUTDOWN_S = 5.0  # on SIGTERM, requests in flight get this long to finish


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode(answer: Answer) -> web.Response:
    # orjson: 4 us for a 600-byte strategy answer against 9-10 us for the standard library's
    # encoder (bench/bench_blueprint_http.py), a tenth of what a request costs the service.
    body = orjson.dumps(answer.body, default=_plain, option=orjson.OPT_SERIALIZE_NUMPY)
    return web.Response(status=answer.status, body=body, content_type="application/json")


class _JsonErrorProtocol(RequestHandler):
    """aiohttp's connection handler with JSON error pages (for what its parser refuses and for
    exceptions that escape a handler), logged quietly unless it is a server error."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            log.error("error handling a request from %s", request.remote, exc_info=exc)
        else:
            log.debug("refused a malformed request from %s: %s", request.remote, exc or message)
        if request.writer.output_size > 0:  # as aiohttp: the answer has started, only close
            raise ConnectionError("response already started")
        if status >= 500:
            answer = error(status, E_INTERNAL, "internal error, logged")
        else:
            code = E_TOO_LARGE if status == 413 else E_BAD_REQUEST
            what = (message or str(exc or "") or "unreadable").splitlines()[0]
            answer = error(status, code, f"malformed HTTP request: {what[:200]}")
        response = encode(answer)
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        # web.Server makes one RequestHandler per connection; this makes ours, same arguments.
        return _JsonErrorProtocol(self, loop=self._loop, **self._kwargs)


class StrategyServer:
    """The service over one opened blueprint: `start` listens, `stop` closes gracefully."""

    def __init__(self, blueprint: Blueprint) -> None:
        blueprint.preload()
        self.endpoints = Endpoints(blueprint)
        self.endpoints.warm()
        self._runner: web.ServerRunner | None = None

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if await _body_too_large(request):
            response = encode(
                error(413, E_TOO_LARGE, f"request body over {MAX_BODY:,} bytes; send GET queries")
            )
            response.force_close()  # the rest of the body is not read
            return response
        if request.method != "GET":
            message = f"method {request.method[:20]} not allowed: the service answers GET"
            response = encode(error(405, E_METHOD_NOT_ALLOWED, message))
            response.headers["Allow"] = "GET"
            return response
        return encode(self.endpoints.answer(request.path, request.query.items()))

    async def start(self, host: str, port: int) -> str:
        """Listen on ``host``:``port`` (0: any free port); the URL. `OSError` if it cannot."""
        server = _Server(self.handle, access_log=None, keepalive_timeout=KEEPALIVE_S)
        runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, backlog=1024).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        shown = f"[{address[0]}]" if ":" in address[0] else address[0]
        return f"http://{shown}:{address[1]}"

    async def stop(self) -> None:
        """Stop listening, let requests in flight finish (up to `SHUTDOWN_S`), close."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def _body_too_large(request: web.BaseRequest) -> bool:
    length = request.content_length
    if length is not None:
        return length > MAX_BODY
    if not request.body_exists:
        return False
    seen = 0  # chunked: read up to the limit
    while seen <= MAX_BODY:
        chunk = await request.content.read(MAX_BODY + 1 - seen)
        if not chunk:
            return False
        seen += len(chunk)
    return True


async def serve(
    blueprint: Blueprint,
    host: str,
    port: int,
    ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set, or SIGTERM or SIGINT (main thread only); ``ready`` gets
    the URL once listening."""
    server = StrategyServer(blueprint)
    url = await server.start(host, port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
    try:
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
    except (RuntimeError, ValueError):  # not the main thread: the caller sets stop
        signals = ()
    try:
        if ready is not None:
            ready(url)
        await stop.wait()
        log.info("stopping the strategy service at %s", url)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await server.stop()
