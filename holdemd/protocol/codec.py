"""The worker protocol's wire format: msgpack frames to messages and back.

:func:`decode` raises :class:`ProtocolError`, and nothing else, on any input; :func:`encode`
applies the receiver's rules too. See ``worker`` for the envelope, the messages and the limits.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, Final

import msgpack

from holdemd.protocol.errors import E_TOO_LARGE, E_VERSION, ProtocolError
from holdemd.protocol.fields import (
    FLOAT_DTYPES,
    UINT64_MAX,
    Field,
    FieldError,
    array_to_wire,
    boolean,
    finite,
    integer,
    json_map,
    numeric_array,
    seconds,
    tables,
    tables_to_wire,
    text,
    type_name,
)
from holdemd.protocol.worker import (
    MAX_CONTROL_BYTES,
    MAX_MESSAGE_BYTES,
    NAME_CHARS,
    PROTOCOL_VERSION,
    TEXT_CHARS,
    WORKER_REPORTS,
    Ack,
    Bye,
    Delta,
    Error,
    Heartbeat,
    Hello,
    Message,
    Pause,
    Ready,
    Resume,
    Settings,
    Stop,
    Welcome,
    WorkerSpec,
)

MAX_ITEMS: Final = 4096  # msgpack array/map lengths: shapes, tables, the game blob
PEEK_BYTES: Final = 32  # map header + "type" + the longest tag, with room to spare

_SLOT = Field(integer())
_COUNT = Field(integer())
_SECONDS = Field(seconds())
_TEXT = Field(text(TEXT_CHARS))
_FLOATS = Field(numeric_array(FLOAT_DTYPES, 2), array_to_wire)

_SPEC_FIELDS: Final[dict[str, Callable[[Any], Any]]] = {
    "game": json_map,
    "buckets": text(NAME_CHARS * 16),  # a preset name or a path
    "seed": integer(0, UINT64_MAX),
    "linear": boolean,
    "batch_size": integer(1),
    "heartbeat_interval": seconds(positive=True),
    "lockstep": boolean,
    "prediction": boolean,
    "game_cache": text(NAME_CHARS * 16),  # a path, or "" for none
}


def check_worker_spec(value: object) -> WorkerSpec:
    if type(value) is not dict or value.keys() != _SPEC_FIELDS.keys():
        raise FieldError(f"expected a map with exactly {', '.join(_SPEC_FIELDS)}")
    values: dict[str, Any] = {}
    for name, check in _SPEC_FIELDS.items():
        try:
            values[name] = check(value[name])
        except FieldError as exc:
            raise FieldError(f".{name}{_detail(exc)}") from None
    return WorkerSpec(**values)


def _detail(exc: FieldError) -> str:
    """ ": reason", or ".field: reason" from a nested map, so a path reads welcome.spec.seed."""
    text = str(exc)
    return text if text.startswith(".") else f": {text}"


WORKER_SPECS: Final[dict[type[Message], dict[str, Field]]] = {
    Hello: {
        "pid": Field(integer(1)),
        "slot": _SLOT,
        "incarnation": _COUNT,
        "nonce": Field(text(NAME_CHARS)),
    },
    Ready: {"slot": _SLOT, "incarnation": _COUNT, "compile_seconds": _SECONDS},
    Heartbeat: {
        "slot": _SLOT,
        "incarnation": _COUNT,
        "iterations_done": _COUNT,
        "batch_seconds": _SECONDS,
        "rss_bytes": _COUNT,
        "state": Field(text(16, WORKER_REPORTS)),
        "cpu_seconds": _SECONDS,
        "pruned_actions": _COUNT,
        "prunable_actions": _COUNT,
    },
    Delta: {
        "slot": _SLOT,
        "incarnation": _COUNT,
        "seq": _COUNT,
        "iterations": _COUNT,
        "batch_seconds": _SECONDS,
        # int64 only for games of more than 2**31 rows (6-max menus; holdemd.worker).
        "rows": Field(numeric_array(frozenset({"<i4", "<i8"}), 1), array_to_wire),
        "regret": _FLOATS,
        "strategy": _FLOATS,
    },
    Error: {
        "slot": _SLOT,
        "incarnation": _COUNT,
        "exc_type": Field(text(NAME_CHARS)),
        "message": _TEXT,
        "traceback": _TEXT,
    },
    Bye: {"slot": _SLOT, "incarnation": _COUNT, "reason": _TEXT},
    Welcome: {
        "run_id": Field(text(NAME_CHARS)),
        "slot": _SLOT,
        "incarnation": _COUNT,
        "stream": Field(integer(0, UINT64_MAX)),
        "first_iteration": _COUNT,
        "tables": Field(tables, tables_to_wire),
        "spec": Field(check_worker_spec, dataclasses.asdict),
    },
    Pause: {},
    Resume: {},
    Stop: {"reason": _TEXT},
    Ack: {"seq": _COUNT},
    Settings: {
        "prune_probability": Field(finite(0.0, 1.0)),
        "prune_threshold": Field(finite(-math.inf, 0.0)),
        "average_streets": Field(integer(1, 127)),
    },
}


def _check_delta(delta: Delta) -> None:
    """What single fields cannot show: consistent shapes, and values safe to add to tables."""
    import numpy as np

    k = delta.rows.shape[0]
    if delta.regret.shape[0] != k:
        raise FieldError(f"regret has {delta.regret.shape[0]} rows, rows has {k}")
    if delta.strategy.shape != delta.regret.shape or delta.strategy.dtype != delta.regret.dtype:
        raise FieldError("strategy must have the dtype and shape of regret")
    if k and int(delta.rows.min()) < 0:
        raise FieldError("negative row index")
    for name in ("regret", "strategy"):
        # One NaN or inf would poison a global table for good. A float64 sum is a single pass
        # with no temporary array, and it is not finite iff some element is not.
        if not math.isfinite(float(np.sum(getattr(delta, name), dtype=np.float64))):
            raise FieldError(f"{name} has non-finite values")


class Codec:
    """A message family's wire format: msgpack frames to its messages and back.

    ``specs`` lists each message class's fields and their checks; ``big`` names the classes
    whose frames may reach ``big_limit`` (every other frame: ``limit``); ``checks`` runs a
    class's whole-message check after its fields (shapes that must agree, finite values);
    ``versioned`` is the class that carries the peer's ``protocol_version`` (its first
    message), so that a peer of another version is told so, not refused as garbage.
    """

    def __init__(
        self,
        specs: dict[type[Any], dict[str, Field]],
        *,
        version: int,
        limit: int,
        big: frozenset[type[Any]] = frozenset(),
        big_limit: int = 0,
        checks: dict[type[Any], Callable[[Any], None]] | None = None,
        versioned: type[Any] | None = None,
    ) -> None:
        self.specs = specs
        self.by_tag: dict[str, type[Any]] = {cls.TYPE: cls for cls in specs}
        self.version = version
        self.limit = limit
        self.big_tags = frozenset(cls.TYPE for cls in big)
        self.big_limit = big_limit
        self.checks = checks or {}
        self.versioned = versioned

    def encode(self, msg: Any) -> bytes:
        """``msg`` as one msgpack frame; raises :class:`ProtocolError` if decode would reject
        it."""
        spec = self.specs.get(type(msg))
        if spec is None:
            raise ProtocolError(f"not a protocol message: {type_name(msg)}")
        version = getattr(msg, "protocol_version", self.version)  # only `versioned` varies
        wire: dict[str, Any] = {"type": msg.TYPE, "v": version}
        for name, fld in spec.items():
            value = getattr(msg, name)
            try:
                wire[name] = fld.to_wire(value) if fld.to_wire else value
            except FieldError as exc:
                raise ProtocolError(f"{msg.TYPE}.{name}{_detail(exc)}") from None
        self._from_wire(wire)
        data: bytes = msgpack.packb(wire, use_bin_type=True)
        self._check_size(len(data), msg.TYPE in self.big_tags)
        return data

    def decode(self, data: bytes | bytearray | memoryview) -> Any:
        """The message in one frame; raises :class:`ProtocolError` and nothing else."""
        try:
            view = memoryview(data).cast("B")
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"expected bytes, got {type_name(data)}") from exc
        is_big = _peek_type(view) in self.big_tags
        limit = self._check_size(view.nbytes, is_big)
        try:
            wire = msgpack.unpackb(
                view,
                raw=False,
                strict_map_key=True,
                max_bin_len=limit,
                max_str_len=MAX_CONTROL_BYTES,
                max_array_len=MAX_ITEMS,
                max_map_len=MAX_ITEMS,
                max_ext_len=0,  # no extension types, timestamps included
            )
        except Exception as exc:  # msgpack raises many types on garbage; all mean the same
            raise ProtocolError(f"not a msgpack frame ({type_name(exc)}: {str(exc)[:80]})") from exc
        msg = self._from_wire(wire)
        if not is_big:
            return msg
        # A frame whose first "type" named a big message but whose last (duplicate keys: last
        # wins) does not was let past the small limit; it gets the limit of what it turned
        # out to be.
        self._check_size(view.nbytes, msg.TYPE in self.big_tags)
        return msg

    def _check_size(self, size: int, is_big: bool) -> int:
        limit = self.big_limit if is_big else self.limit
        if size > limit:
            big = "/".join(sorted(self.big_tags))
            kind = big if is_big else f"non-{big}"
            raise ProtocolError(f"{kind} frame of {size} bytes is over {limit}", E_TOO_LARGE)
        return limit

    def _from_wire(self, wire: object) -> Any:
        if type(wire) is not dict:
            raise ProtocolError(f"expected a map, got {type_name(wire)}")
        version = wire.get("v")
        if type(version) is not int:
            raise ProtocolError("missing or non-int protocol version 'v'")
        if version != self.version:
            raise ProtocolError(f"protocol version {version}, expected {self.version}", E_VERSION)
        tag = wire.get("type")
        cls = self.by_tag.get(tag) if type(tag) is str else None
        if cls is None:
            raise ProtocolError(f"unknown message type {str(tag)[:40]!r}")
        spec = self.specs[cls]
        _check_field_names(cls.TYPE, wire.keys() - {"type", "v"}, set(spec))
        values: dict[str, Any] = {}
        for name, fld in spec.items():
            try:
                values[name] = fld.check(wire[name])
            except FieldError as exc:
                raise ProtocolError(f"{tag}.{name}{_detail(exc)}") from None
        if cls is self.versioned:
            values["protocol_version"] = version
        msg = cls(**values)
        check = self.checks.get(cls)
        if check is not None:
            try:
                check(msg)
            except FieldError as exc:
                raise ProtocolError(f"{tag}: {exc}") from None
        return msg


def _peek_type(view: memoryview) -> str | None:
    """The ``"type"`` tag if it is the first key of the map, read from the first bytes only."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=PEEK_BYTES)
    unpacker.feed(view[:PEEK_BYTES])
    try:
        unpacker.read_map_header()
        key, value = unpacker.unpack(), unpacker.unpack()
    except Exception:  # garbage or a short frame: not a big one, so the stricter limit applies
        return None
    return value if key == "type" and isinstance(value, str) else None


WORKER_CODEC: Final = Codec(
    WORKER_SPECS,
    version=PROTOCOL_VERSION,
    limit=MAX_CONTROL_BYTES,
    big=frozenset({Delta}),
    big_limit=MAX_MESSAGE_BYTES,
    checks={Delta: _check_delta},
    versioned=Hello,
)


def encode(msg: Message) -> bytes:
    """A worker-protocol message as one msgpack frame (:meth:`Codec.encode`)."""
    return WORKER_CODEC.encode(msg)


def decode(data: bytes | bytearray | memoryview) -> Message:
    """The worker-protocol message in one frame; raises :class:`ProtocolError` only."""
    message: Message = WORKER_CODEC.decode(data)
    return message


def _check_field_names(tag: str, present: set[Any], expected: set[str]) -> None:
    missing = sorted(expected - present)
    if missing:
        raise ProtocolError(f"{tag}: missing field(s) {', '.join(missing)}")
    extra = sorted(repr(name)[:40] for name in present - expected)
    if extra:
        raise ProtocolError(f"{tag}: unknown field(s) {', '.join(extra[:5])}")
