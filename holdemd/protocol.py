"""The worker protocol: the one contract between the supervisor and its worker processes.

Transport
    ZeroMQ: the supervisor binds a ROUTER, each worker connects a DEALER; every frame is one
    msgpack map. Nothing is ever pickled: a frame unpacks to plain maps, lists, strings, numbers
    and byte strings, and only then, field by field, into the frozen dataclasses below.

Envelope
    ``{"type": <tag>, "v": PROTOCOL_VERSION, <field>: <value>, ...}`` holding every field of the
    message's dataclass and nothing else. ``"type"`` is written first so that :func:`decode` can
    read it from the first bytes and pick the size limit before it unpacks the rest.

Messages
    worker → supervisor: :class:`Hello`, :class:`Ready`, :class:`Heartbeat`, :class:`Delta`,
    :class:`Error`, :class:`Bye`. supervisor → worker: :class:`Welcome`, :class:`Pause`,
    :class:`Resume`, :class:`Stop`, :class:`Ack`, :class:`Settings`.

Arrays
    ``{"dtype": "<f4", "shape": [k, A], "data": <bin>}``: raw little-endian bytes, a dtype spelled
    as numpy's ``dtype.str`` and listed in :data:`ARRAY_DTYPES`, one or two dimensions, at most
    :data:`MAX_ARRAY_ELEMENTS` elements. Decoded arrays are read-only numpy views of the received
    bytes: the supervisor only reads a delta (it adds it into its tables), so copying would be
    waste; call ``.copy()`` before writing to one.

Limits
    A frame is at most :data:`MAX_CONTROL_BYTES`, or :data:`MAX_MESSAGE_BYTES` for a
    :class:`Delta`, checked before unpacking; msgpack's own length limits bound what is left.
    Set ``zmq.MAXMSGSIZE`` to :data:`MAX_MESSAGE_BYTES` on the sockets so that libzmq drops
    larger frames before buffering them.

Errors
    :func:`decode` raises :class:`ProtocolError`, and nothing else, on any input. :func:`encode`
    applies the receiver's rules too, so a sender's bug fails in the sender, with its stack.
    What this module cannot know: table sizes. The supervisor still checks that a delta's rows
    are below its table's row count and that its action count matches.

Importing this module must stay cheap (the thin client imports it): numpy is imported only
inside the functions that build or read arrays.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, NamedTuple, TypeAlias

import msgpack

from holdemd.errors import HoldemdError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

PROTOCOL_VERSION: Final = 1

NONCE_ENV: Final = "HOLDEMD_WORKER_NONCE"  # how a spawned worker gets the nonce it echoes
MAX_MESSAGE_BYTES: Final = 512 * 1024 * 1024  # a Delta frame
MAX_CONTROL_BYTES: Final = 1024 * 1024  # every other frame
MAX_ARRAY_ELEMENTS: Final = 1 << 26  # 256 MiB of float32: two such arrays fill a Delta frame
MAX_NDIM: Final = 2

# dtype.str spelling -> item size. Little-endian only, so bytes mean the same on every host.
ARRAY_DTYPES: Final = {"<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8, "|u1": 1}
_FLOAT_DTYPES: Final = frozenset({"<f4", "<f8"})

WorkerState: TypeAlias = Literal["compiling", "running", "paused", "idle"]
WORKER_STATES: Final = ("compiling", "running", "paused", "idle")

# Error codes, shared by both planes: ProtocolError.code, and the control plane's replies.
E_BAD_JSON: Final = "E_BAD_JSON"
E_TOO_LARGE: Final = "E_TOO_LARGE"
E_BAD_REQUEST: Final = "E_BAD_REQUEST"
E_UNKNOWN_COMMAND: Final = "E_UNKNOWN_COMMAND"
E_VERSION: Final = "E_VERSION"
E_BUSY: Final = "E_BUSY"
E_NOT_RUNNING: Final = "E_NOT_RUNNING"
E_PERMISSION: Final = "E_PERMISSION"
E_INTERNAL: Final = "E_INTERNAL"
E_CONFLICT: Final = "E_CONFLICT"
ERROR_CODES: Final = (
    E_BAD_JSON,
    E_TOO_LARGE,
    E_BAD_REQUEST,
    E_UNKNOWN_COMMAND,
    E_VERSION,
    E_BUSY,
    E_NOT_RUNNING,
    E_PERMISSION,
    E_INTERNAL,
    E_CONFLICT,
)

_UINT64_MAX: Final = 2**64 - 1
_INT64_MAX: Final = 2**63 - 1
_NAME_CHARS: Final = 256  # ids, names, exception types
_TEXT_CHARS: Final = 64 * 1024  # messages, reasons, tracebacks
_MAX_ITEMS: Final = 4096  # msgpack array/map lengths: shapes, tables, the game blob
_MAX_TABLES: Final = 64
_MAX_JSON_DEPTH: Final = 32
_PEEK_BYTES: Final = 32  # map header + "type" + the longest tag, with room to spare


class ProtocolError(HoldemdError):
    """A frame or a control line broke the protocol; ``str(error)`` is a short reason.

    ``code`` is one of :data:`ERROR_CODES`; ``request_id`` is the control request's id when it
    could be read, so that the error reply can still name the request it answers.
    """

    def __init__(
        self, reason: str, code: str = E_BAD_REQUEST, request_id: str | int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.request_id = request_id


class _Invalid(Exception):
    """A field's value is wrong; the driver prefixes the message and field name."""


# --------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True)
class TableHandle:
    """Where a worker maps a global table: a POSIX shared-memory block of ``shape`` ``dtype``."""

    shm_name: str
    dtype: str  # a key of ARRAY_DTYPES, e.g. "<f8"
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * ARRAY_DTYPES[self.dtype]


@dataclass(frozen=True)
class Hello:
    """First message of a worker. ``nonce`` is the token its spawn was given, echoed so that
    a stale or foreign process cannot take the slot. ``protocol_version`` is the envelope's."""

    TYPE: ClassVar[str] = "hello"
    pid: int
    slot: int
    incarnation: int
    nonce: str
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Ready:
    """The worker compiled its kernels and mapped the tables; it runs batches from now on."""

    TYPE: ClassVar[str] = "ready"
    slot: int
    incarnation: int
    compile_seconds: float


@dataclass(frozen=True)
class Heartbeat:
    """Sent from the compute loop. ``iterations_done`` counts this incarnation's iterations;
    liveness and progress are judged apart, and ``cpu_seconds`` tells busy from hung."""

    TYPE: ClassVar[str] = "heartbeat"
    slot: int
    incarnation: int
    iterations_done: int
    batch_seconds: float  # wall time of the last batch
    rss_bytes: int
    state: WorkerState
    cpu_seconds: float
    pruned_actions: int = 0  # this incarnation's actions skipped by pruning ...
    prunable_actions: int = 0  # ... of those at nodes where pruning was on


@dataclass(frozen=True, eq=False)  # arrays have no single truth value; compare fields
class Delta:
    """One batch's sparse table update: ``regret[i]`` and ``strategy[i]`` add to row
    ``rows[i]``. ``rows`` is int32 ``[k]``; ``regret`` and ``strategy`` are ``[k, A]`` of one
    float dtype. ``seq`` numbers this incarnation's deltas; :class:`Ack` echoes it."""

    TYPE: ClassVar[str] = "delta"
    slot: int
    incarnation: int
    seq: int
    iterations: int
    batch_seconds: float
    rows: NDArray[np.int32]
    regret: NDArray[np.floating[Any]]
    strategy: NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Error:
    """The worker caught an exception it cannot recover from; it exits after sending this."""

    TYPE: ClassVar[str] = "error"
    slot: int
    incarnation: int
    exc_type: str
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, slot: int, incarnation: int, exc: BaseException) -> Error:
        """The message for ``exc``, clipped to the protocol's text limits."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(
            slot,
            incarnation,
            type(exc).__qualname__[:_NAME_CHARS],
            str(exc)[:_TEXT_CHARS],
            text[-_TEXT_CHARS:],  # the innermost frames say the most
        )


@dataclass(frozen=True)
class Bye:
    """The worker is exiting cleanly (after :class:`Stop`, or on a signal)."""

    TYPE: ClassVar[str] = "bye"
    slot: int
    incarnation: int
    reason: str


@dataclass(frozen=True)
class Welcome:
    """The supervisor's answer to :class:`Hello`: everything the worker needs to run.

    ``seed`` and ``stream`` select the worker's RNG stream; ``game`` is the game's config as a
    JSON-able map (lists come back as lists); ``first_iteration`` and ``linear`` set the
    linear-CFR weights of the worker's first batch.
    """

    TYPE: ClassVar[str] = "welcome"
    run_id: str
    slot: int
    incarnation: int
    seed: int
    stream: int
    tables: dict[str, TableHandle]
    game: dict[str, Any]
    batch_size: int
    heartbeat_interval: float
    first_iteration: int
    linear: bool


@dataclass(frozen=True)
class Pause:
    """Start no more batches until :class:`Resume`; heartbeats go on, with state "paused"."""

    TYPE: ClassVar[str] = "pause"


@dataclass(frozen=True)
class Resume:
    """Run batches again after :class:`Pause`."""

    TYPE: ClassVar[str] = "resume"


@dataclass(frozen=True)
class Stop:
    """Exit cleanly: the worker answers with :class:`Bye`. ``reason`` is for its log."""

    TYPE: ClassVar[str] = "stop"
    reason: str


@dataclass(frozen=True)
class Settings:
    """The schedule's knobs for the worker's next batches (holdemd.solver.schedule): sent after
    :class:`Welcome` and whenever they change."""

    TYPE: ClassVar[str] = "settings"
    prune_probability: float  # 0..1; 0 = no pruning
    prune_threshold: float  # regret below this (table units) is pruned
    average_streets: int  # strategy sums only on streets below this


@dataclass(frozen=True)
class Ack:
    """The supervisor merged delta ``seq``; a worker may bound its unacknowledged deltas."""

    TYPE: ClassVar[str] = "ack"
    seq: int


Message: TypeAlias = (
    Hello
    | Ready
    | Heartbeat
    | Delta
    | Error
    | Bye
    | Welcome
    | Pause
    | Resume
    | Stop
    | Ack
    | Settings
)


# --------------------------------------------------------------------------------------------
# Field checks: wire value -> Python value, or _Invalid


def _type_name(value: object) -> str:
    return type(value).__name__


def _int(lo: int = 0, hi: int = _INT64_MAX) -> Callable[[object], int]:
    def check(value: object) -> int:
        if type(value) is not int:  # bool is an int subclass; it is never a count
            raise _Invalid(f"expected an int, got {_type_name(value)}")
        if not lo <= value <= hi:
            raise _Invalid(f"{value} is out of range [{lo}, {hi}]")
        return value

    return check


def _finite(lo: float, hi: float) -> Callable[[object], float]:
    def check(value: object) -> float:
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise _Invalid(f"expected a float, got {_type_name(value)}")
        number = float(value)
        if not math.isfinite(number) or not lo <= number <= hi:
            raise _Invalid(f"{number} is not a finite number in [{lo}, {hi}]")
        return number

    return check


def _seconds(*, positive: bool = False) -> Callable[[object], float]:
    def check(value: object) -> float:
        # An int is accepted: `batch_seconds=0` is a float in every sense that matters here.
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise _Invalid(f"expected a float, got {_type_name(value)}")
        number = float(value)
        if not math.isfinite(number) or number < 0 or (positive and number == 0):
            raise _Invalid(f"{number} is not a finite {'positive' if positive else '>= 0'} number")
        return number

    return check


def _str(max_chars: int, choices: tuple[str, ...] = ()) -> Callable[[object], str]:
    def check(value: object) -> str:
        if type(value) is not str:
            raise _Invalid(f"expected a str, got {_type_name(value)}")
        if len(value) > max_chars:
            raise _Invalid(f"{len(value)} chars is over the {max_chars}-char limit")
        if choices and value not in choices:
            raise _Invalid(f"{value[:40]!r} is not one of {', '.join(choices)}")
        return value

    return check


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise _Invalid(f"expected a bool, got {_type_name(value)}")
    return value


def _shape(value: object, ndims: range) -> tuple[int, ...]:
    if type(value) is not list or len(value) not in ndims:
        raise _Invalid(f"shape must be a list of {ndims.start}..{ndims.stop - 1} dimensions")
    return tuple(_int()(dim) for dim in value)


def _array(dtypes: frozenset[str], ndim: int) -> Callable[[object], Any]:
    def check(value: object) -> Any:
        if type(value) is not dict or value.keys() != {"dtype", "shape", "data"}:
            raise _Invalid("expected an array map with exactly dtype, shape and data")
        dtype, data = value["dtype"], value["data"]
        if type(dtype) is not str or dtype not in dtypes:
            raise _Invalid(f"dtype {str(dtype)[:20]!r} is not one of {', '.join(sorted(dtypes))}")
        shape = _shape(value["shape"], range(ndim, ndim + 1))
        if any(dim > MAX_ARRAY_ELEMENTS for dim in shape) or math.prod(shape) > MAX_ARRAY_ELEMENTS:
            raise _Invalid(f"shape {list(shape)} is over {MAX_ARRAY_ELEMENTS} elements")
        if not isinstance(data, (bytes, memoryview)):  # memoryview only when encode checks
            raise _Invalid(f"data must be bin, got {_type_name(data)}")
        expected = math.prod(shape) * ARRAY_DTYPES[dtype]
        if memoryview(data).nbytes != expected:
            raise _Invalid(f"data has {memoryview(data).nbytes} bytes, shape needs {expected}")
        import numpy as np

        return np.frombuffer(data, dtype=dtype).reshape(shape)

    return check


def _array_to_wire(value: object) -> dict[str, Any]:
    import numpy as np

    if not isinstance(value, np.ndarray):
        raise _Invalid(f"expected a numpy array, got {_type_name(value)}")
    little = value.dtype.newbyteorder("<")
    if little.str not in ARRAY_DTYPES:
        raise _Invalid(f"dtype {little.str!r} is not one of {', '.join(ARRAY_DTYPES)}")
    array = np.ascontiguousarray(value, dtype=little)
    data = array.reshape(-1).view(np.uint8).data  # zero-copy: msgpack packs buffers as bin
    return {"dtype": little.str, "shape": list(array.shape), "data": data}


def _table(value: object) -> TableHandle:
    if type(value) is not dict or value.keys() != {"shm_name", "dtype", "shape"}:
        raise _Invalid("expected a table map with exactly shm_name, dtype and shape")
    dtype = _str(8, tuple(ARRAY_DTYPES))(value["dtype"])
    shm_name = _str(_NAME_CHARS)(value["shm_name"])
    return TableHandle(shm_name, dtype, _shape(value["shape"], range(1, MAX_NDIM + 1)))


def _tables(value: object) -> dict[str, TableHandle]:
    if type(value) is not dict or len(value) > _MAX_TABLES:
        raise _Invalid(f"expected a map of at most {_MAX_TABLES} tables")
    return {_str(_NAME_CHARS)(name): _table(handle) for name, handle in value.items()}


def _tables_to_wire(value: object) -> object:
    if not isinstance(value, Mapping):
        return value  # _tables names the wrong type
    return {
        name: {"shm_name": h.shm_name, "dtype": h.dtype, "shape": list(h.shape)}
        if isinstance(h, TableHandle)
        else h
        for name, h in value.items()
    }


def _check_json(value: object, depth: int = 0) -> None:
    if depth > _MAX_JSON_DEPTH:
        raise _Invalid(f"nested deeper than {_MAX_JSON_DEPTH}")
    if value is None or isinstance(value, (bool, float, str)):
        return
    if isinstance(value, int):
        if not -(2**63) <= value <= _UINT64_MAX:  # what msgpack can carry
            raise _Invalid(f"int {value} does not fit in 64 bits")
        return
    if isinstance(value, (list, tuple)):  # a tuple goes out as an array and comes back a list
        for item in value:
            _check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Invalid(f"map key {_type_name(key)} is not a str")
            _check_json(item, depth + 1)
        return
    raise _Invalid(f"{_type_name(value)} is not JSON-able")


def _game(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Invalid(f"expected a map, got {_type_name(value)}")
    _check_json(value)
    return value


class _Field(NamedTuple):
    check: Callable[[Any], Any]  # wire value -> Python value; raises _Invalid
    to_wire: Callable[[Any], Any] | None = None  # Python value -> wire value, if they differ


_SLOT = _Field(_int())
_COUNT = _Field(_int())
_SECONDS = _Field(_seconds())
_TEXT = _Field(_str(_TEXT_CHARS))
_FLOATS = _Field(_array(_FLOAT_DTYPES, 2), _array_to_wire)

_SPECS: Final[dict[type[Message], dict[str, _Field]]] = {
    Hello: {
        "pid": _Field(_int(1)),
        "slot": _SLOT,
        "incarnation": _COUNT,
        "nonce": _Field(_str(_NAME_CHARS)),
    },
    Ready: {"slot": _SLOT, "incarnation": _COUNT, "compile_seconds": _SECONDS},
    Heartbeat: {
        "slot": _SLOT,
        "incarnation": _COUNT,
        "iterations_done": _COUNT,
        "batch_seconds": _SECONDS,
        "rss_bytes": _COUNT,
        "state": _Field(_str(16, WORKER_STATES)),
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
        "rows": _Field(_array(frozenset({"<i4"}), 1), _array_to_wire),
        "regret": _FLOATS,
        "strategy": _FLOATS,
    },
    Error: {
        "slot": _SLOT,
        "incarnation": _COUNT,
        "exc_type": _Field(_str(_NAME_CHARS)),
        "message": _TEXT,
        "traceback": _TEXT,
    },
    Bye: {"slot": _SLOT, "incarnation": _COUNT, "reason": _TEXT},
    Welcome: {
        "run_id": _Field(_str(_NAME_CHARS)),
        "slot": _SLOT,
        "incarnation": _COUNT,
        "seed": _Field(_int(0, _UINT64_MAX)),
        "stream": _Field(_int(0, _UINT64_MAX)),
        "tables": _Field(_tables, _tables_to_wire),
        "game": _Field(_game),
        "batch_size": _Field(_int(1)),
        "heartbeat_interval": _Field(_seconds(positive=True)),
        "first_iteration": _COUNT,
        "linear": _Field(_bool),
    },
    Pause: {},
    Resume: {},
    Stop: {"reason": _TEXT},
    Ack: {"seq": _COUNT},
    Settings: {
        "prune_probability": _Field(_finite(0.0, 1.0)),
        "prune_threshold": _Field(_finite(-math.inf, 0.0)),
        "average_streets": _Field(_int(1, 127)),
    },
}
_BY_TAG: Final[dict[str, type[Message]]] = {cls.TYPE: cls for cls in _SPECS}


def _check_delta(delta: Delta) -> None:
    """What single fields cannot show: consistent shapes, and values safe to add to tables."""
    import numpy as np

    k = delta.rows.shape[0]
    if delta.regret.shape[0] != k:
        raise _Invalid(f"regret has {delta.regret.shape[0]} rows, rows has {k}")
    if delta.strategy.shape != delta.regret.shape or delta.strategy.dtype != delta.regret.dtype:
        raise _Invalid("strategy must have the dtype and shape of regret")
    if k and int(delta.rows.min()) < 0:
        raise _Invalid("negative row index")
    for name in ("regret", "strategy"):
        # One NaN or inf would poison a global table for good. A float64 sum is a single pass
        # with no temporary array, and it is not finite iff some element is not.
        if not math.isfinite(float(np.sum(getattr(delta, name), dtype=np.float64))):
            raise _Invalid(f"{name} has non-finite values")


# --------------------------------------------------------------------------------------------
# encode / decode


def encode(msg: Message) -> bytes:
    """``msg`` as one msgpack frame; raises :class:`ProtocolError` if decode would reject it."""
    spec = _SPECS.get(type(msg))
    if spec is None:
        raise ProtocolError(f"not a protocol message: {_type_name(msg)}")
    version = getattr(msg, "protocol_version", PROTOCOL_VERSION)  # only Hello lets it vary
    wire: dict[str, Any] = {"type": msg.TYPE, "v": version}
    for name, fld in spec.items():
        value = getattr(msg, name)
        try:
            wire[name] = fld.to_wire(value) if fld.to_wire else value
        except _Invalid as exc:
            raise ProtocolError(f"{msg.TYPE}.{name}: {exc}") from None
    _from_wire(wire)
    data: bytes = msgpack.packb(wire, use_bin_type=True)
    _check_size(len(data), msg.TYPE == Delta.TYPE)
    return data


def decode(data: bytes | bytearray | memoryview) -> Message:
    """The message in one frame; raises :class:`ProtocolError` and nothing else."""
    try:
        view = memoryview(data).cast("B")
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"expected bytes, got {_type_name(data)}") from exc
    is_delta = _peek_type(view) == Delta.TYPE
    limit = _check_size(view.nbytes, is_delta)
    try:
        wire = msgpack.unpackb(
            view,
            raw=False,
            strict_map_key=True,
            max_bin_len=limit,
            max_str_len=MAX_CONTROL_BYTES,
            max_array_len=_MAX_ITEMS,
            max_map_len=_MAX_ITEMS,
            max_ext_len=0,  # no extension types, timestamps included
        )
    except Exception as exc:  # msgpack raises many types on garbage; all mean the same here
        raise ProtocolError(f"not a msgpack frame ({_type_name(exc)}: {str(exc)[:80]})") from exc
    msg = _from_wire(wire)
    if not is_delta:
        return msg
    # A frame whose first "type" said delta but whose last (duplicate keys: last wins) does not
    # was let past the control limit; it gets the limit of what it turned out to be.
    _check_size(view.nbytes, isinstance(msg, Delta))
    return msg


def _peek_type(view: memoryview) -> str | None:
    """The ``"type"`` tag if it is the first key of the map, read from the first bytes only."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=_PEEK_BYTES)
    unpacker.feed(view[:_PEEK_BYTES])
    try:
        unpacker.read_map_header()
        key, value = unpacker.unpack(), unpacker.unpack()
    except Exception:  # garbage or a short frame: not a delta, so the stricter limit applies
        return None
    return value if key == "type" and isinstance(value, str) else None


def _check_size(size: int, is_delta: bool) -> int:
    limit = MAX_MESSAGE_BYTES if is_delta else MAX_CONTROL_BYTES
    if size > limit:
        kind = "delta" if is_delta else "non-delta"
        raise ProtocolError(f"{kind} frame of {size} bytes is over {limit}", E_TOO_LARGE)
    return limit


def _from_wire(wire: object) -> Message:
    if type(wire) is not dict:
        raise ProtocolError(f"expected a map, got {_type_name(wire)}")
    version = wire.get("v")
    if type(version) is not int:
        raise ProtocolError("missing or non-int protocol version 'v'")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version}, expected {PROTOCOL_VERSION}", E_VERSION)
    tag = wire.get("type")
    cls = _BY_TAG.get(tag) if type(tag) is str else None
    if cls is None:
        raise ProtocolError(f"unknown message type {str(tag)[:40]!r}")
    spec = _SPECS[cls]
    _check_field_names(cls.TYPE, wire.keys() - {"type", "v"}, set(spec))
    values: dict[str, Any] = {}
    for name, fld in spec.items():
        try:
            values[name] = fld.check(wire[name])
        except _Invalid as exc:
            raise ProtocolError(f"{tag}.{name}: {exc}") from None
    if cls is Hello:
        values["protocol_version"] = version
    msg: Message = cls(**values)
    if isinstance(msg, Delta):
        try:
            _check_delta(msg)
        except _Invalid as exc:
            raise ProtocolError(f"delta: {exc}") from None
    return msg


def _check_field_names(tag: str, present: set[Any], expected: set[str]) -> None:
    missing = sorted(expected - present)
    if missing:
        raise ProtocolError(f"{tag}: missing field(s) {', '.join(missing)}")
    extra = sorted(repr(name)[:40] for name in present - expected)
    if extra:
        raise ProtocolError(f"{tag}: unknown field(s) {', '.join(extra[:5])}")
