"""``holdemd node``: an extra host's share of a run: local workers, a replica, one link to the head.

The node joins the head (``protocol.hosts``), builds the run's game (or maps it from the game
cache), fetches the whole regret table into its replica, and then runs its workers exactly as
the head runs its own (``training.worker_pool``: hello handshake, hang detection, restarts).
Its workers' deltas are merged into the replica and acknowledged at once, so workers never wait
on the network; every :attr:`NodeOptions.sync_interval` seconds, or sooner when
:data:`SEND_BYTES` of work is pending, one combined delta goes to the head, whose answer brings
the rows the replica lacks. One message is in flight at a time.

Faults: a head silent for :data:`HEAD_TIMEOUT` seconds is gone; the workers pause, the node
reconnects with backoff (a new socket, so nothing queued in the old one arrives late) and
resyncs. A head that comes back with another run (a restart resumes from its snapshot under a
new run id) gets fresh workers. A refusal that joining again cannot fix (other code, other card
abstraction) ends the node with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TypeVar

from holdemd import __version__
from holdemd.config.binder import build_dataclass
from holdemd.config.schema import Config
from holdemd.durations import format_bytes
from holdemd.errors import UsageError
from holdemd.games.cache import game_key, load_or_build
from holdemd.games.compiled import Game
from holdemd.hosts.head_link import HeadConnection, HeadLost, NodeRefused
from holdemd.hosts.keys import NodeKeys
from holdemd.hosts.node_workers import NodeWorkers, greeting
from holdemd.hosts.replica import LazyReplica, Replica, open_replica
from holdemd.jit import source_digest
from holdemd.protocol.hosts import (
    Check,
    HostBeat,
    HostDelta,
    HostMessage,
    HostUpdate,
    Join,
    Joined,
    Leave,
    Refused,
)
from holdemd.protocol.worker import (
    Message,
    Settings,
)
from holdemd.training.rate import RateMeter
from holdemd.training.slots import DEFAULT_WORKER_COMMAND, Timeouts, WorkerSlot
from holdemd.training.worker_pool import PoolOptions

log = logging.getLogger("holdemd.node")

HEAD_TIMEOUT = 6.0  # seconds without a message from the head: it is gone
BEAT_INTERVAL = 1.0
SEND_BYTES = 8 * 1024 * 1024  # pending work that is sent without waiting for the interval
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
TICK = 0.1  # pool watch, rates and beats; the head's messages are read as they come
REPORT_INTERVAL = 60.0  # a progress line in the log (the node's own view; the head shows more)


@dataclass(frozen=True)
class NodeOptions:
    connect: str  # tcp://HEAD:PORT
    name: str
    num_workers: int
    sync_interval: float = 1.0
    once: bool = False  # end after one run (tests, Ray) instead of waiting for the next
    timeouts: Timeouts = field(default_factory=Timeouts)
    stop_timeout: float = 60.0
    worker_command: tuple[str, ...] = DEFAULT_WORKER_COMMAND


Expected = TypeVar("Expected", Joined, HostUpdate)


class HostNode:
    def __init__(self, options: NodeOptions, keys: NodeKeys) -> None:
        self.options = options
        self.keys = keys  # its own pair, and the head's public key it pins
        self.head = HeadConnection(options.connect, keys)
        # The current run, once joined:
        self.joined: Joined | None = None
        self.config: Config | None = None
        self.game: Game | None = None
        self.game_cache = ""
        self.replica: Replica | None = None
        self.workers: NodeWorkers | None = None
        self.settings: Settings | None = None
        self.paused = False
        self.stopping = False
        self.iteration = 0
        self.seq = 0
        self.inflight: int | None = None  # seq of the delta awaiting its update
        self.training = False  # workers run and their work goes out as it comes
        self.last_send = 0.0
        self.rate_meter = RateMeter()
        self.merged = 0  # iterations merged into the replica by workers that stopped
        self.rate = 0.0

    # -- the life of a node ------------------------------------------------------------------

    async def run(self) -> int:
        backoff = BACKOFF_FIRST
        try:
            while True:
                try:
                    finished = await self._session()
                    backoff = BACKOFF_FIRST
                    if finished and self.options.once:
                        return 0
                except HeadLost as exc:
                    log.warning(
                        "lost the head at %s (%s); workers paused, reconnecting in %.1f s",
                        self.options.connect,
                        exc,
                        backoff,
                    )
                    self._pause_workers()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            await self._stop_workers("the node is stopping")
            self.head.close(term=True)
            if self.replica is not None:
                self.replica.close()

    async def _session(self) -> bool:
        """Join, sync, train until the run stops (True) or the head is lost (HeadLost)."""
        self.head.connect()
        self.head.send(
            Join(
                name=self.options.name,
                version=__version__,
                code=source_digest(),
                num_workers=self.options.num_workers,
            )
        )
        answer = self._expect(await self.head.next(HEAD_TIMEOUT), Joined)
        await self._take_run(answer)
        assert self.replica is not None and self.game is not None and self.config is not None
        digest = self.game.abstraction_digest or ""
        self.head.send(
            Check(
                session=answer.session,
                game_key=game_key(self.config.game, self.game.abstraction_digest),
                abstraction_digest=digest,
                num_rows=self.game.num_rows,
                max_actions=self.game.max_actions,
            )
        )
        self.replica.clear()
        self.inflight = None
        remaining = 1
        while remaining:  # the whole table, chunk by chunk
            update = await self._exchange(final=False)
            remaining = update.remaining
        log.info(
            "replica in sync (%s received); %s",
            format_bytes(self.head.bytes_in),
            "workers resume" if self.workers is not None else "starting workers",
        )
        await self._start_or_resume_workers()
        return await self._train()

    async def _take_run(self, joined: Joined) -> None:
        """The run the head leads: the same as before (a reconnect), or a new one."""
        previous = self.joined
        self.joined = joined
        self.iteration = joined.iteration
        self.settings = joined.settings
        self.stopping = False
        if previous is not None and previous.run_id == joined.run_id:
            return
        await self._stop_workers("a new run")
        config = self.config = build_dataclass(Config, joined.config, source="the head's config")
        log.info("joined run %s: building %s", joined.run_id, config.game.name)
        game, cache = await asyncio.to_thread(
            load_or_build, config.game, config.abstraction.buckets
        )
        if self.replica is not None:  # another run: its tables may differ in every way
            self.replica.close()
            self.replica = None
        self.game, self.game_cache = game, str(cache or "")
        self.replica = open_replica(game, config.solver, joined.lazy)
        log.info(
            "replica: %s tables",
            "lazily allocated" if isinstance(self.replica, LazyReplica) else "dense",
        )
        self.replica.floor = _floor(joined.regret_floor)

    def _send_delta(self, *, final: bool) -> None:
        """Send everything pending as one delta (its answer is awaited by the caller)."""
        assert self.replica is not None and self.joined is not None
        rows, regret, strategy, iterations, exact = self.replica.take()
        self.seq += 1
        self.head.send(
            HostDelta(
                session=self.joined.session,
                seq=self.seq,
                iterations=iterations,
                rows=rows,
                regret=regret,
                strategy=strategy,
                workers=self.workers.up if self.workers is not None else 0,
                rate=self.rate,
                final=final,
                exact=exact,
                floor=-float("inf") if self.replica.floor is None else self.replica.floor,
            )
        )
        self.inflight = self.seq
        self.last_send = time.monotonic()

    async def _exchange(self, *, final: bool) -> HostUpdate:
        """Send everything pending and apply the head's answer."""
        self._send_delta(final=final)
        update = self._apply(await self.head.next(HEAD_TIMEOUT))
        self.inflight = None
        return update

    def _expect(self, message: HostMessage, kind: type[Expected]) -> Expected:
        """``message`` if it is a ``kind``; a refusal ends the node (NodeRefused) or the session
        (HeadLost: worth joining again), anything else the session."""
        if isinstance(message, Refused):
            if message.retry:
                raise HeadLost(f"refused for now: {message.reason}")
            raise NodeRefused(
                f"the head at {self.options.connect} refused this node: {message.reason}"
            )
        if not isinstance(message, kind):
            raise HeadLost(f"expected {kind.__name__}, got {type(message).__name__}")
        return message

    def _apply(self, message: HostMessage) -> HostUpdate:
        assert self.replica is not None
        message = self._expect(message, HostUpdate)
        for factor in message.discounts:  # before the values, which are after them
            self.replica.scale(float(factor))
        try:
            self.replica.apply(message.rows, message.values)
        except ValueError as exc:
            raise HeadLost(f"an update that does not fit the game: {exc}") from exc
        self.replica.floor = _floor(message.regret_floor)
        self.iteration = message.iteration
        if message.settings != self.settings:
            self.settings = message.settings
            if self.workers is not None:
                self.workers.broadcast(message.settings)
        if message.paused != self.paused:
            self.paused = message.paused
            if self.workers is not None:
                self.workers.pause(message.paused)
        self.stopping = message.stopping
        return message

    async def _train(self) -> bool:
        """Until the run stops: keep the workers up, send work, watch the head."""
        assert self.workers is not None and self.joined is not None
        last_beat = last_tick = last_report = time.monotonic()
        self.training = True
        try:
            while not self.stopping:
                try:
                    message: HostMessage | None = await asyncio.wait_for(
                        self.head.inbox.get(), TICK
                    )
                except asyncio.TimeoutError:
                    message = None
                if message is not None and not isinstance(message, HostBeat):
                    self._apply(message)
                    self.inflight = None
                    self._maybe_send()
                now = time.monotonic()
                if now - last_tick < TICK:
                    continue
                last_tick = now
                self.head.drain()
                self.head.check_handshake()
                await self.workers.watch(now, self.paused)
                self.rate = self.rate_meter.add(now, self.merged + self.workers.merged)
                self._maybe_send()
                if now - last_beat >= BEAT_INTERVAL:
                    self.head.send(HostBeat(session=self.joined.session))
                    last_beat = now
                if now - last_report >= REPORT_INTERVAL:
                    self._report(now)
                    last_report = now
                if now - self.head.last_heard > HEAD_TIMEOUT:
                    raise HeadLost(f"no message for {now - self.head.last_heard:.1f} s")
        finally:
            self.training = False
        if self.inflight is not None:  # its answer first: one message in flight
            self._apply(await self.head.next(HEAD_TIMEOUT))
            self.inflight = None
        await self._stop_workers("the run is stopping")
        update = await self._exchange(final=True)
        log.info(
            "run %s stopped at iteration %s; sent %s, received %s",
            self.joined.run_id,
            f"{update.iteration:,}",
            format_bytes(self.head.bytes_out),
            format_bytes(self.head.bytes_in),
        )
        self.head.send(Leave(session=update.session, reason="the run stopped"))
        self.joined = None  # the next run is a new one, even under the same id
        return True

    def _report(self, now: float) -> None:
        """One progress line: what a node's log (journalctl) tells of it between runs' ends."""
        assert self.workers is not None and self.replica is not None
        log.info(
            "%d/%d workers, %s it/s, run at iteration %s%s; replica %s; sent %s, received %s; "
            "last word from the head %.1f s ago",
            self.workers.up,
            self.options.num_workers,
            f"{self.rate:,.0f}",
            f"{self.iteration:,}",
            " (paused)" if self.paused else "",
            format_bytes(self.replica.allocated_bytes),
            format_bytes(self.head.bytes_out),
            format_bytes(self.head.bytes_in),
            now - self.head.last_heard,
        )

    def _maybe_send(self) -> None:
        """Send the pending work now if nothing is in flight and it is due: a worker batch's
        worth (so other hosts see it about as soon as a local worker's batch), a byte budget,
        or the sync interval, whichever comes first."""
        if not self.training or self.inflight is not None or self.stopping:
            return
        replica, joined = self.replica, self.joined
        assert replica is not None and joined is not None
        if (
            replica.pending_iterations >= joined.spec.batch_size
            or replica.pending_bytes >= SEND_BYTES
            or time.monotonic() - self.last_send >= self.options.sync_interval
        ):
            self._send_delta(final=False)

    # -- workers -------------------------------------------------------------------------------

    async def _start_or_resume_workers(self) -> None:
        if self.workers is not None:
            if not self.paused:
                self.workers.pause(False)
            return
        assert self.replica is not None
        options = self.options
        self.workers = NodeWorkers(
            PoolOptions(
                options.num_workers, options.timeouts, options.stop_timeout, options.worker_command
            ),
            self.replica,
            greeting=self._greeting,
            on_work=self._maybe_send,
            stopping=lambda: self.stopping,
        )

    def _greeting(self, slot: WorkerSlot) -> list[Message]:
        joined, replica = self.joined, self.replica
        assert joined is not None and replica is not None
        return greeting(
            joined,
            slot,
            iteration=self.iteration,
            game_cache=self.game_cache,
            tables=replica.shared.handles,
            settings=self.settings,
            paused=self.paused,
        )

    def _pause_workers(self) -> None:
        if self.workers is not None and not self.paused:
            self.workers.pause(True)
        self.paused = True

    async def _stop_workers(self, reason: str) -> None:
        if self.workers is not None:
            self.merged += self.workers.merged
            await self.workers.stop(reason)
            self.workers = None
        self.paused = False


def _floor(value: float) -> float | None:
    return None if value == float("-inf") else value


def check_connect(url: str) -> str:
    """``--connect``: a ZeroMQ TCP address, or a one-line error."""
    if not url.startswith("tcp://") or ":" not in url[6:]:
        raise UsageError(f"--connect {url}: expected tcp://HOST:PORT (the head's --listen address)")
    return url
