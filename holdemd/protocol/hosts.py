"""The host protocol: the one contract between a run's head and the ``holdemd node`` of each
extra host.

Transport
    ZeroMQ over TCP with CURVE (``holdemd.hosts.curve``): the head binds a ROUTER, each node
    connects a DEALER. Frames are msgpack maps with the worker protocol's envelope, field checks
    and array encoding (``codec``), under their own version number.

The exchange
    node -> head: :class:`Join` (who it is, which code it runs); head -> node: :class:`Joined`
    (the run's config, worker spec and settings) or :class:`Refused`. The node builds the game,
    answers :class:`Check` (its game's key and card-abstraction digest), and from then on sends
    :class:`HostDelta` messages, one in flight at a time: its workers' merged deltas since the
    last one. The head merges a delta like any worker's and answers :class:`HostUpdate`: the
    current *values* of rows changed since that node's last update (its own rows included,
    floored and rounded by the head), at most a byte budget per answer, so replicas converge
    and never drift. A node that just joined has every row to fetch: it sends empty deltas
    until its replica is whole, and only then starts its workers. Both ends send
    :class:`HostBeat` every second, so a cut link is noticed in seconds; :class:`Leave` says
    goodbye.

Sessions
    Each accepted :class:`Join` opens a new session number; every later message carries it, and
    a message of an older session (queued in a socket across a reconnect) is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias

from holdemd.protocol.worker import Settings, WorkerSpec

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

HOST_PROTOCOL_VERSION: Final = 2
MAX_HOST_MESSAGE_BYTES: Final = 512 * 1024 * 1024  # a HostDelta or HostUpdate frame
MAX_HOST_CONTROL_BYTES: Final = 4 * 1024 * 1024  # every other frame (Joined carries a config)


@dataclass(frozen=True)
class Join:
    """A node's first message. ``code`` is the digest of its holdemd sources (``jit``):
    nodes must run the head's kernels, or their deltas would mean something else."""

    TYPE: ClassVar[str] = "join"
    name: str
    version: str  # holdemd.__version__
    code: str
    num_workers: int
    protocol_version: int = HOST_PROTOCOL_VERSION


@dataclass(frozen=True)
class Joined:
    """The head's welcome: everything a node needs to build the game and run workers."""

    TYPE: ClassVar[str] = "joined"
    run_id: str
    session: int
    host_index: int  # 1, 2, ...: keeps the node's workers' RNG streams apart from everyone's
    config: dict[str, Any]  # the run's config as a map (config.binder)
    spec: WorkerSpec  # the workers' spec, game_cache left to the node
    settings: Settings
    regret_floor: float  # the floor the head merges with; -inf: none
    iteration: int
    lazy: bool  # the head's tables are lazily allocated: so is the replica, rows travel compact


@dataclass(frozen=True)
class Refused:
    """The head will not take this node (or this message); ``reason`` says why."""

    TYPE: ClassVar[str] = "refused"
    reason: str
    retry: bool  # worth joining again later (the run is stopping); False: fix, then restart


@dataclass(frozen=True)
class Check:
    """The node built the game: its cache key (config + code) and card abstraction digest."""

    TYPE: ClassVar[str] = "check"
    session: int
    game_key: str
    abstraction_digest: str  # "" when the game has none (Kuhn, Leduc)
    num_rows: int
    max_actions: int


@dataclass(frozen=True, eq=False)
class HostDelta:
    """A node's workers' deltas merged since its last one: row ``rows[i]`` changes by
    ``regret[i]`` and ``strategy[i]`` (the workers' delta dtype). ``iterations`` counts the batches'
    iterations; ``rate`` and ``workers`` are the node's for status."""

    TYPE: ClassVar[str] = "host_delta"
    session: int
    seq: int
    iterations: int
    rows: NDArray[np.int32] | NDArray[np.int64]
    regret: NDArray[np.floating[Any]]
    strategy: NDArray[np.floating[Any]]
    workers: int  # workers up
    rate: float  # iterations/s over the node's last ten seconds or so
    final: bool  # the node's workers stopped: nothing more will come
    # The node added exactly this delta to its replica with the head's arithmetic (one worker
    # batch, float regrets, clamped at ``floor``): rows whose value it had stay in sync, and the
    # head does not send them back.
    exact: bool = False
    floor: float = -float("inf")


@dataclass(frozen=True, eq=False)
class HostUpdate:
    """The head's answer to delta ``seq``: current regret values of rows the node's replica
    lacks (``values`` of the head's table dtype: [k, max_actions] for dense tables; for lazy
    ones each row's legal entries one row after the other, rows of allocated blocks only),
    and ``remaining`` rows still to send.

    ``discounts``: the factors of the regret discounts the head completed since its last
    update, in order. The node applies them to its whole replica *before* ``values`` (which
    are current): a discount changes every row, and sending the table again for it would
    cost each host the whole table per discount. Rows the head sent while a discount was
    under way come again after it."""

    TYPE: ClassVar[str] = "host_update"
    session: int
    seq: int
    iteration: int
    rows: NDArray[np.int32] | NDArray[np.int64]
    values: NDArray[Any]
    remaining: int
    discounts: NDArray[np.float64]
    settings: Settings
    regret_floor: float
    paused: bool
    stopping: bool  # the run is ending: stop the workers and send a final delta


@dataclass(frozen=True)
class HostBeat:
    """Still here (both directions, every second)."""

    TYPE: ClassVar[str] = "host_beat"
    session: int


@dataclass(frozen=True)
class Leave:
    """The node is going (stopped, or it refused the head's game)."""

    TYPE: ClassVar[str] = "leave"
    session: int
    reason: str


HostMessage: TypeAlias = Join | Joined | Refused | Check | HostDelta | HostUpdate | HostBeat | Leave
