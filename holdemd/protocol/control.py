"""The control plane: one JSON object per line over the daemon's Unix stream socket.

Request::

    {"v": 1, "id": 7, "cmd": "status", "args": {}}

Reply::

    {"v": 1, "id": 7, "ok": true, "result": {...}}
    {"v": 1, "id": 7, "ok": false, "error": {"code": "E_NOT_RUNNING", "message": "..."}}

``id`` is the client's (a str or an int) and comes back unchanged; ``args`` may be left out.
A request line is at most :data:`MAX_CONTROL_LINE` bytes, a reply line at most
:data:`MAX_REPLY_LINE`, not counting the ``\\n`` that ends each. Lines are compact JSON in
ASCII (``json`` escapes the rest), so any tool that writes lines can drive the daemon.

:func:`parse_request` raises :class:`~holdemd.protocol.ProtocolError` with ``code`` set to
E_TOO_LARGE, E_BAD_JSON, E_BAD_REQUEST or E_VERSION, and ``request_id`` set when the id could be
read, so :meth:`ControlReply.from_error` can answer it. Whether a command exists is the server's
business (E_UNKNOWN_COMMAND), not this module's. Senders are strict (:func:`encode_reply` only
emits codes of :data:`~holdemd.protocol.ERROR_CODES`); readers accept any ``E_*`` code, so
that a newer daemon's code still reaches an older client as an error.

Only the standard library and :mod:`holdemd.protocol` are imported: the client starts fast.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

from holdemd.protocol.errors import (
    E_BAD_JSON,
    E_BAD_REQUEST,
    E_INTERNAL,
    E_TOO_LARGE,
    E_VERSION,
    ERROR_CODES,
    ProtocolError,
)

CONTROL_VERSION: Final = 1
MAX_CONTROL_LINE: Final = 64 * 1024
MAX_REPLY_LINE: Final = 4 * 1024 * 1024  # a client's reader limit; status fits many times over

RequestId: TypeAlias = str | int
_MAX_ID_CHARS: Final = 128
_MAX_CMD_CHARS: Final = 64
_CODE_RE: Final = re.compile(r"E_[A-Z0-9_]{1,40}")


@dataclass(frozen=True)
class ControlRequest:
    id: RequestId
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)
    v: int = CONTROL_VERSION


@dataclass(frozen=True)
class ReplyError:
    code: str  # one of ERROR_CODES
    message: str  # one line for a person: what failed and what to do


@dataclass(frozen=True)
class ControlReply:
    """``ok`` with a ``result`` (any JSON value), or not ``ok`` with an ``error``."""

    id: RequestId | None  # None when the request's id could not be read
    ok: bool
    result: Any = None
    error: ReplyError | None = None
    v: int = CONTROL_VERSION

    @classmethod
    def success(cls, request_id: RequestId | None, result: Any = None) -> ControlReply:
        return cls(request_id, True, result)

    @classmethod
    def failure(cls, request_id: RequestId | None, code: str, message: str) -> ControlReply:
        return cls(request_id, False, error=ReplyError(code, message))

    @classmethod
    def from_error(cls, error: ProtocolError) -> ControlReply:
        """The reply to a request that :func:`parse_request` rejected."""
        return cls.failure(error.request_id, error.code, error.reason)


# --------------------------------------------------------------------------------------------
# Requests


def parse_request(line: bytes) -> ControlRequest:
    """The request on one line (its ``\\n`` optional); raises :class:`ProtocolError`."""
    obj = _load_line(line, MAX_CONTROL_LINE)
    request_id = obj.get("id") if _is_request_id(obj.get("id")) else None
    _check_version(obj, request_id)
    _check_keys(obj, {"v", "id", "cmd"}, {"args"}, request_id)
    if request_id is None:
        raise ProtocolError(
            f"'id' must be a str of at most {_MAX_ID_CHARS} chars or an int", E_BAD_REQUEST
        )
    cmd, args = obj["cmd"], obj.get("args", {})
    if not isinstance(cmd, str) or not 0 < len(cmd) <= _MAX_CMD_CHARS:
        raise ProtocolError(
            f"'cmd' must be a non-empty str of at most {_MAX_CMD_CHARS} chars",
            E_BAD_REQUEST,
            request_id,
        )
    if not isinstance(args, dict):
        raise ProtocolError("'args' must be an object", E_BAD_REQUEST, request_id)
    return ControlRequest(request_id, cmd, args)


def encode_request(request: ControlRequest) -> bytes:
    """One request line, ``\\n``-terminated; raises :class:`ProtocolError` if it is not valid."""
    obj = {"v": request.v, "id": request.id, "cmd": request.cmd, "args": request.args}
    line = _dump_line(obj, MAX_CONTROL_LINE, E_BAD_REQUEST)
    parse_request(line)  # the server's rules, applied before the line leaves
    return line


# --------------------------------------------------------------------------------------------
# Replies


def encode_reply(reply: ControlReply) -> bytes:
    """One reply line, ``\\n``-terminated, compact JSON.

    Raises :class:`ProtocolError` with E_INTERNAL if the result is not JSON (a NaN, an object),
    or E_TOO_LARGE; the server then sends ``ControlReply.failure(id, error.code, str(error))``,
    which always encodes.
    """
    if reply.id is not None and not _is_request_id(reply.id):
        raise ProtocolError(f"reply id {reply.id!r:.40} is not a str, an int or None", E_INTERNAL)
    obj: dict[str, Any] = {"v": reply.v, "id": reply.id, "ok": reply.ok}
    if reply.ok:
        if reply.error is not None:
            raise ProtocolError("an ok reply has no error", E_INTERNAL)
        obj["result"] = reply.result
    else:
        if reply.error is None or reply.result is not None:
            raise ProtocolError("a failed reply has an error and no result", E_INTERNAL)
        if reply.error.code not in ERROR_CODES:
            raise ProtocolError(f"unknown error code {reply.error.code!r}", E_INTERNAL)
        obj["error"] = {"code": reply.error.code, "message": reply.error.message}
    return _dump_line(obj, MAX_REPLY_LINE, E_INTERNAL)


def parse_reply(line: bytes) -> ControlReply:
    """The reply on one line (the client side); raises :class:`ProtocolError`."""
    obj = _load_line(line, MAX_REPLY_LINE)
    _check_version(obj, None)
    ok = obj.get("ok")
    if not isinstance(ok, bool):
        raise ProtocolError("'ok' must be a bool")
    _check_keys(obj, {"v", "id", "ok", "result" if ok else "error"}, set(), None)
    request_id = obj["id"]
    if request_id is not None and not _is_request_id(request_id):
        raise ProtocolError("'id' must be a str, an int or null")
    if ok:
        return ControlReply.success(request_id, obj["result"])
    return ControlReply(request_id, False, error=_reply_error(obj["error"]))


def _reply_error(value: object) -> ReplyError:
    if not isinstance(value, dict) or value.keys() != {"code", "message"}:
        raise ProtocolError("'error' must be an object with exactly code and message")
    code, message = value["code"], value["message"]
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise ProtocolError("'error.code' must be a str like E_NOT_RUNNING")
    if not isinstance(message, str):
        raise ProtocolError("'error.message' must be a str")
    return ReplyError(code, message)


# --------------------------------------------------------------------------------------------
# Events (the stream a ``subscribe`` request opens)

EVENT_KINDS: Final = ("state", "worker", "snapshot", "stats")


@dataclass(frozen=True)
class ControlEvent:
    """``{"v": 1, "event": kind, "time": iso, "data": {...}}``: no id and no ok, so a reader
    tells it from a reply by its ``event`` key."""

    event: str  # one of EVENT_KINDS
    time: str  # UTC, ISO 8601
    data: dict[str, Any]
    v: int = CONTROL_VERSION


def encode_event(event: ControlEvent) -> bytes:
    if event.event not in EVENT_KINDS:
        raise ProtocolError(f"unknown event kind {event.event!r:.40}", E_INTERNAL)
    obj = {"v": event.v, "event": event.event, "time": event.time, "data": event.data}
    return _dump_line(obj, MAX_REPLY_LINE, E_INTERNAL)


def is_event_line(line: bytes) -> bool:
    """Cheap test a client uses to route a line to :func:`parse_event` or :func:`parse_reply`."""
    return b'"event":' in line[:40]


def parse_event(line: bytes) -> ControlEvent:
    """The event on one line; readers accept kinds they do not know (a newer daemon's)."""
    obj = _load_line(line, MAX_REPLY_LINE)
    _check_version(obj, None)
    _check_keys(obj, {"v", "event", "time", "data"}, set(), None)
    kind, when, data = obj["event"], obj["time"], obj["data"]
    if not isinstance(kind, str) or not isinstance(when, str) or not isinstance(data, dict):
        raise ProtocolError("'event' and 'time' must be str and 'data' an object")
    return ControlEvent(kind, when, data)


# --------------------------------------------------------------------------------------------
# Lines


def _load_line(line: bytes, limit: int) -> dict[str, Any]:
    """The JSON object on ``line``: size first, so an oversize line is never parsed."""
    if not isinstance(line, (bytes, bytearray)):
        raise ProtocolError(f"expected bytes, got {type(line).__name__}", E_BAD_JSON)
    body = bytes(line).removesuffix(b"\n").removesuffix(b"\r")
    if len(body) > limit:
        raise ProtocolError(f"line of {len(body)} bytes is over {limit}", E_TOO_LARGE)
    try:
        obj = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"invalid JSON: {str(exc)[:120]}", E_BAD_JSON) from exc
    if not isinstance(obj, dict):
        raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}", E_BAD_REQUEST)
    return obj


def _dump_line(obj: dict[str, Any], limit: int, code: str) -> bytes:
    try:
        text = json.dumps(obj, separators=(",", ":"), allow_nan=False)  # ASCII: no '\n' inside
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON-able: {str(exc)[:120]}", code) from exc
    if len(text) > limit:
        raise ProtocolError(f"line of {len(text)} bytes is over {limit}", E_TOO_LARGE)
    return text.encode("ascii") + b"\n"


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys; refuse instead, as "cmd" twice is surely a mistake.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key in an object")
    return obj


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # "1e999" parses to inf
        raise ValueError(f"{text[:20]} is out of range")
    return number


def _is_request_id(value: object) -> bool:
    if isinstance(value, str):
        return len(value) <= _MAX_ID_CHARS
    return isinstance(value, int) and not isinstance(value, bool)


def _check_version(obj: dict[str, Any], request_id: RequestId | None) -> None:
    # Before any other field: a newer client's request may well have fields we do not know.
    version = obj.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProtocolError("missing or non-int 'v'", E_BAD_REQUEST, request_id)
    if version != CONTROL_VERSION:
        raise ProtocolError(
            f"control protocol version {version}, expected {CONTROL_VERSION}",
            E_VERSION,
            request_id,
        )


def _check_keys(
    obj: dict[str, Any], required: set[str], optional: set[str], request_id: RequestId | None
) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise ProtocolError(f"missing field(s) {', '.join(missing)}", E_BAD_REQUEST, request_id)
    extra = sorted(key[:40] for key in obj.keys() - required - optional)
    if extra:
        raise ProtocolError(f"unknown field(s) {', '.join(extra[:5])}", E_BAD_REQUEST, request_id)
