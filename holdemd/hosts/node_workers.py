"""A node's worker processes: the head's own worker pool, reading the node's replica.

The same ``training.worker_pool`` as the head's (hello handshake, hang detection, restarts with
backoff) on a local ``ipc://`` link; a worker's delta goes into the replica and is acknowledged
at once, so workers never wait on the network. The pool starts beside the node's session, not
before it: a first start compiles the kernels for a minute, and the head must keep hearing from
the node meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from holdemd.errors import HoldemdError
from holdemd.hosts.replica import Replica
from holdemd.protocol.codec import decode
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.hosts import Joined
from holdemd.protocol.worker import (
    Ack,
    Delta,
    Hello,
    Message,
    Pause,
    Resume,
    Settings,
    TableHandle,
    Welcome,
)
from holdemd.training.link import WorkerLink
from holdemd.training.options import no_events
from holdemd.training.slots import WorkerSlot
from holdemd.training.worker_pool import PoolOptions, WorkerPool

log = logging.getLogger("holdemd.node")

Greeting = Callable[[WorkerSlot], list[Message]]


class NodeWorkers:
    def __init__(
        self,
        options: PoolOptions,
        replica: Replica,
        *,
        greeting: Greeting,
        on_work: Callable[[], None],
        stopping: Callable[[], bool],
    ) -> None:
        self.replica = replica
        self.on_work = on_work  # a delta went into the replica: maybe send the pending work
        self.merged = 0  # iterations merged into the replica
        self.link = WorkerLink(self._on_frame)
        self.pool = WorkerPool(
            options, self.link, greeting=greeting, on_event=no_events, on_problem=_log_problem
        )
        self.receiver = asyncio.create_task(self.link.receive())
        self.starting: asyncio.Task[None] | None = asyncio.create_task(self._start(stopping))

    async def _start(self, stopping: Callable[[], bool]) -> None:
        pool = self.pool
        if await pool.start(
            stopping=stopping, forced=lambda: False, log_path=Path("the node's log")
        ):
            await pool.start_the_others()

    async def watch(self, now: float, paused: bool) -> None:
        """Restart failed workers once the pool has started (a start-up failure raises)."""
        self.link.poke()
        starting = self.starting
        if starting is not None:
            if not starting.done():
                return
            self.starting = None
            starting.result()
        await self.pool.watch()
        self.pool.update_rates(now, paused)

    def pause(self, paused: bool) -> None:
        if not paused:
            self.pool.resume_progress(time.monotonic())  # a pause is not a stall
        self.pool.broadcast(Pause() if paused else Resume())

    def broadcast(self, message: Message) -> None:
        self.pool.broadcast(message)

    @property
    def up(self) -> int:
        return self.pool.up

    def _on_frame(self, identity: bytes, payload: bytes) -> None:
        pool, replica = self.pool, self.replica
        try:
            message = decode(payload)
        except ProtocolError as exc:
            pool.drop(pool.by_identity.get(identity), f"undecodable message: {exc}")
            return
        if isinstance(message, Hello):
            pool.on_hello(identity, message)
            return
        slot = pool.sender(identity, message)
        if slot is None:
            return
        now = time.monotonic()
        if not isinstance(message, Delta):
            pool.on_report(slot, message, now)
            return
        rows = message.rows
        if rows.size and int(rows.max()) >= replica.game.num_rows:
            pool.drop(slot, "delta does not fit the tables")
            return
        replica.add(rows, message.regret, message.strategy, message.iterations)
        self.merged += message.iterations
        pool.credit(slot, message, now)
        self.link.send(identity, Ack(seq=message.seq))
        self.on_work()

    async def stop(self, reason: str) -> None:
        if self.starting is not None:
            self.starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, HoldemdError):
                await self.starting
            self.starting = None
        await self.pool.stop(reason, forced=lambda: False)
        self.receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.receiver
        self.link.close()


def _log_problem(source: str, reason: str | None) -> None:
    if reason is not None:
        log.error("%s: %s", source, reason)


def greeting(
    joined: Joined,
    slot: WorkerSlot,
    *,
    iteration: int,
    game_cache: str,
    tables: dict[str, TableHandle],
    settings: Settings | None,
    paused: bool,
) -> list[Message]:
    """What a node's worker is told first: the head's spec for this host, its replica's
    tables, the current settings, and Pause if the run is paused."""
    spec = replace(
        joined.spec,
        game_cache=game_cache,
        lockstep=False,  # acknowledged at once: nothing to wait for
        prediction=True,  # other hosts' workers have batches in flight too
    )
    welcome = Welcome(
        run_id=joined.run_id,
        slot=slot.slot,
        incarnation=slot.incarnation,
        # Apart from every stream of the head's workers and of other hosts.
        stream=(joined.host_index << 56) ^ (slot.slot << 40) ^ (slot.incarnation << 20) ^ iteration,
        first_iteration=iteration,
        tables=tables,
        spec=spec,
    )
    messages: list[Message] = [welcome]
    if settings is not None:
        messages.append(settings)
    if paused:
        messages.append(Pause())
    return messages
