"""The worker protocol's messages: the one contract between the supervisor and its workers.

Transport
    ZeroMQ: the supervisor binds a ROUTER, each worker connects a DEALER; every frame is one
    msgpack map. Nothing is ever pickled: a frame unpacks to plain maps, lists, strings, numbers
    and byte strings, and only then, field by field, into the frozen dataclasses below.

Envelope
    ``{"type": <tag>, "v": PROTOCOL_VERSION, <field>: <value>, ...}`` holding every field of the
    message's dataclass and nothing else. ``"type"`` is written first so that ``codec.decode`` can
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
    ``codec.decode`` raises :class:`ProtocolError`, and nothing else, on any input. ``codec.encode``
    applies the receiver's rules too, so a sender's bug fails in the sender, with its stack.
    What this module cannot know: table sizes. The supervisor still checks that a delta's rows
    are below its table's row count and that its action count matches.

The wire format (validation, msgpack) is in ``codec`` and ``fields``; this module holds the
messages and the limits only, and imports numpy only for type checking.
"""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

PROTOCOL_VERSION: Final = 1

NONCE_ENV: Final = "HOLDEMD_WORKER_NONCE"  # how a spawned worker gets the nonce it echoes
MAX_MESSAGE_BYTES: Final = 512 * 1024 * 1024  # a Delta frame
MAX_CONTROL_BYTES: Final = 1024 * 1024  # every other frame
MAX_ARRAY_ELEMENTS: Final = 1 << 26  # 256 MiB of float32: two such arrays fill a Delta frame
MAX_NDIM: Final = 2
NAME_CHARS: Final = 256  # ids, names, exception types
TEXT_CHARS: Final = 64 * 1024  # messages, reasons, tracebacks

# dtype.str spelling -> item size. Little-endian only, so bytes mean the same on every host.
ARRAY_DTYPES: Final = {"<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8, "|u1": 1}

# What a worker says it is doing, in its heartbeats (the supervisor's verdict on a slot is a
# SlotState, in rundir.status).
WorkerReport: TypeAlias = Literal["compiling", "running", "paused", "idle"]
WORKER_REPORTS: Final = ("compiling", "running", "paused", "idle")


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
    state: WorkerReport
    cpu_seconds: float
    pruned_actions: int = 0  # this incarnation's actions skipped by pruning ...
    prunable_actions: int = 0  # ... of those at nodes where pruning was on


@dataclass(frozen=True, eq=False)  # arrays have no single truth value; compare fields
class Delta:
    """One batch's sparse table update: ``regret[i]`` and ``strategy[i]`` add to row
    ``rows[i]``. ``rows`` is int32 ``[k]`` (int64 for games of over 2**31 rows); ``regret`` and
    ``strategy`` are ``[k, A]`` of one
    float dtype. ``seq`` numbers this incarnation's deltas; :class:`Ack` echoes it."""

    TYPE: ClassVar[str] = "delta"
    slot: int
    incarnation: int
    seq: int
    iterations: int
    batch_seconds: float
    rows: NDArray[np.int32] | NDArray[np.int64]
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
            type(exc).__qualname__[:NAME_CHARS],
            str(exc)[:TEXT_CHARS],
            text[-TEXT_CHARS:],  # the innermost frames say the most
        )


@dataclass(frozen=True)
class Bye:
    """The worker is exiting cleanly (after :class:`Stop`, or on a signal)."""

    TYPE: ClassVar[str] = "bye"
    slot: int
    incarnation: int
    reason: str


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker of a run runs, each field once: the game (its config section as a
    JSON-able map, lists come back as lists) and its card abstraction, the solver's seed and
    weighting, and the batch rhythm."""

    game: dict[str, Any]
    buckets: str
    seed: int
    linear: bool  # linear CFR: iteration t's updates weigh t
    batch_size: int  # iterations per delta
    heartbeat_interval: float
    # Each batch waits for its merge before the next starts (no batch in flight, so no
    # timing reaches the numbers: repeatable runs).
    lockstep: bool
    # The batch sent last stays in the worker's view after its merge, as a prediction of the
    # other workers' batches in flight (worker.py); off with one worker, which has none.
    prediction: bool
    # The compiled game's entry in the game cache (games.cache), which the worker maps
    # read-only instead of building the game; "" when there is none (cache off, or it could
    # not be written), and a worker that cannot open it builds the game itself.
    game_cache: str = ""


@dataclass(frozen=True)
class Welcome:
    """The supervisor's answer to :class:`Hello`: everything one worker needs to run.

    ``spec`` is the run's (the same for every worker); ``stream`` selects this worker's RNG
    stream; ``first_iteration`` sets the linear-CFR weight of its first batch.
    """

    TYPE: ClassVar[str] = "welcome"
    run_id: str
    slot: int
    incarnation: int
    stream: int
    first_iteration: int
    tables: dict[str, TableHandle]
    spec: WorkerSpec


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
