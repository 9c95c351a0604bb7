"""What the supervisor does with each frame a worker sends, and what a new worker is told.

Hellos and reports go to the worker pool; a delta is merged, counted and acknowledged, and the
schedule's iteration points and the iteration target are checked on the merge that reaches
them. Everything here runs between two awaits of the event loop, so no merge interleaves with
another, nor with a schedule pass.

Deterministic mode with several workers (``training.deterministic``): workers run in lockstep
(each waits for the ack of its batch), and the supervisor holds each slot's delta until every
slot that may still send has sent one, then merges the round in slot order, completes any
whole-table pass, and only then acknowledges: every batch of the next round reads the same
tables whatever the timing. A worker that fails or stops leaves the round (checked each tick);
a stop merges what is held.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from holdemd.protocol.codec import decode
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.worker import (
    Ack,
    Delta,
    Hello,
    Message,
    Pause,
    TableHandle,
    Welcome,
    WorkerSpec,
)
from holdemd.rundir.status import FINAL_SLOT_STATES
from holdemd.training.link import WorkerLink
from holdemd.training.merge import Merger
from holdemd.training.schedule_runner import ScheduleRunner
from holdemd.training.slots import WorkerSlot
from holdemd.training.worker_pool import WorkerPool

log = logging.getLogger("holdemd.supervisor")


class Dispatcher:
    def __init__(
        self,
        run_id: str,
        link: WorkerLink,
        merger: Merger,
        schedule: ScheduleRunner,
        *,
        tables: dict[str, TableHandle],
        spec: WorkerSpec,
        iteration: int,
        target: int,
        elapsed: Callable[[], float],
        paused: Callable[[], bool],
        rounds: bool = False,
    ) -> None:
        self.run_id = run_id
        self.link = link
        self.merger = merger
        self.schedule = schedule
        self.tables = tables
        self.spec = spec
        self.iteration = iteration  # merged iterations of the run: the one count of them
        self.target = target  # 0: no iteration target
        self.elapsed = elapsed
        self.paused = paused
        self.pool: WorkerPool | None = None  # set once the pool exists (it greets through us)
        # Deterministic mode with several workers: each slot's latest delta waits here until
        # every live slot has sent one; the round is then merged in slot order.
        self.rounds = rounds
        self.held: dict[int, tuple[WorkerSlot, Delta]] = {}
        # While a snapshot writes lazy tables straight from shared memory, deltas wait here
        # (a worker sends one more at most: it waits for the Ack of the one before).
        self.holding = False
        self.waiting: list[tuple[WorkerSlot, Delta]] = []
        # Told of the rows each merge changes: the extra hosts' replicas must fetch them.
        self.on_merged: Callable[[np.ndarray], None] = _nothing

    def on_frame(self, identity: bytes, payload: bytes) -> None:
        assert self.pool is not None
        try:
            message = decode(payload)
        except ProtocolError as exc:
            self.pool.drop(self.pool.by_identity.get(identity), f"undecodable message: {exc}")
            return
        if isinstance(message, Hello):
            self.pool.on_hello(identity, message)
            return
        slot = self.pool.sender(identity, message)
        if slot is None:
            return
        if isinstance(message, Delta):
            self.on_delta(slot, message, time.monotonic())
        else:
            self.pool.on_report(slot, message, time.monotonic())

    def hold(self, held: bool, now: float) -> None:
        """Hold merges (a snapshot is reading the tables), or merge what waited and go on."""
        self.holding = held
        if not held:
            waiting, self.waiting = self.waiting, []
            for slot, delta in waiting:
                self.on_delta(slot, delta, now)

    def on_delta(self, slot: WorkerSlot, delta: Delta, now: float) -> None:
        """Merge a delta now, or (deterministic rounds) when its round is complete."""
        assert self.pool is not None
        if self.holding:
            self.waiting.append((slot, delta))
            slot.last_progress_at = now  # it delivered; a snapshot is no stall of the worker
            return
        if not self.rounds:
            self.merge_delta(slot, delta, now)
            return
        if slot.slot in self.held:
            self.merge_round(now)  # its predecessor's batch, still held: that round ends here
        self.held[slot.slot] = (slot, delta)
        slot.last_progress_at = now  # it delivered; waiting for the others is not a stall
        self.merge_round_if_complete(now)

    def round_complete(self) -> bool:
        """Every slot that may still send has sent its batch of the round (or the run stops)."""
        assert self.pool is not None
        if self.pool.stop_sent:
            return True
        members = [s for s in self.pool.slots if s.state not in FINAL_SLOT_STATES]
        return all(s.slot in self.held for s in members)

    def merge_round_if_complete(self, now: float) -> None:
        """Merge the held round if it is complete; on each tick too (a slot may have failed)."""
        assert self.pool is not None
        for slot, _ in self.held.values():
            slot.last_progress_at = now
        if self.held and self.round_complete():
            self.merge_round(now)

    def merge_round(self, now: float) -> None:
        """Merge the held deltas in slot order, then acknowledge them all: no worker reads the
        tables before the whole round is in (the acks release the workers)."""
        held, self.held = self.held, {}
        merged = [
            (slot, delta.seq)
            for _, (slot, delta) in sorted(held.items())
            if self.merge_delta(slot, delta, now, ack=False)
        ]
        self.schedule.finish()
        for slot, seq in merged:
            if slot.identity is not None:
                self.link.send(slot.identity, Ack(seq=seq))

    def merge_delta(self, slot: WorkerSlot, delta: Delta, now: float, *, ack: bool = True) -> bool:
        """Merge a worker's delta and acknowledge it (unless ``ack`` is False: the caller
        does); False (and nothing written) if refused."""
        assert self.pool is not None
        why = self.merger.merge(
            delta,
            iteration=self.iteration,
            floor=self.schedule.regret_floor,
            prune_probability=self.schedule.settings.prune_probability,
        )
        if why is not None:
            self.pool.drop(slot, f"delta refused: {why}")
            log.warning("worker %d: delta refused: %s", slot.slot, why)
            return False
        self.on_merged(delta.rows)
        self.pool.credit(slot, delta, now)
        if slot.identity is None:
            self.iteration += delta.iterations
            return True
        self.count(delta.iterations)
        if ack:
            if self.spec.lockstep:
                # The worker computes nothing until the Ack: a whole-table pass due now
                # (a discount) completes first, so no batch reads it half applied.
                self.schedule.finish()
            self.link.send(slot.identity, Ack(seq=delta.seq))
        return True

    def count(self, iterations: int) -> None:
        """Count merged iterations (a worker's batch or a host's delta): the schedule's
        iteration points and the iteration target land on the merge reaching them."""
        self.iteration += iterations
        if self.schedule.counts_iterations:
            self.apply_schedule()
        else:
            self.schedule.step()  # a pending whole-table pass advances between merges
        assert self.pool is not None
        if self.target and self.iteration >= self.target and not self.pool.stop_sent:
            # Stop now, from the merge path, not at the next tick: a fast game would run many
            # more batches in a tenth of a second. The Stop goes out before the Ack on the
            # same socket, so no worker starts another batch.
            self.pool.send_stop("iterations")

    def apply_schedule(self) -> None:
        """Queue the schedule's events due now; tell the workers if their settings change."""
        assert self.pool is not None
        changed = self.schedule.apply(self.elapsed(), self.iteration)
        if changed is not None:
            self.pool.broadcast(changed)

    def greeting(self, slot: WorkerSlot) -> list[Message]:
        """A worker's welcome: what to run, from which tables, in which state."""
        welcome = Welcome(
            run_id=self.run_id,
            slot=slot.slot,
            incarnation=slot.incarnation,
            # Distinct per slot, incarnation and resume point: no two batches share a stream.
            stream=(slot.slot << 40) ^ (slot.incarnation << 20) ^ self.iteration,
            first_iteration=self.iteration,
            tables=self.tables,
            spec=self.spec,
        )
        messages: list[Message] = [welcome, self.schedule.settings]
        if self.paused():
            messages.append(Pause())
        return messages


def _nothing(rows: np.ndarray) -> None:
    pass
