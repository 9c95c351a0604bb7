"""The worker processes of a run: start-up, the hello handshake, what workers report, and their
supervision (crashes, hangs, undecodable output, restarts with backoff, giving up).

The pool owns the slots (``slots.WorkerSlot``: one process at a time, a new incarnation per
restart) and speaks to them through the run's ``WorkerLink``. Deltas are not its business: the
run merges them (``merge``) and credits the slot here.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holdemd.errors import HoldemdError
from holdemd.protocol.worker import Bye, Delta, Error, Heartbeat, Hello, Message, Ready, Stop
from holdemd.rundir.status import FINAL_SLOT_STATES, UP_SLOT_STATES
from holdemd.training.link import WorkerLink
from holdemd.training.slots import DEFAULT_WORKER_COMMAND, Timeouts, WorkerSlot

log = logging.getLogger("holdemd.workers")

TICK_SECONDS = 0.1

EventSink = Callable[[str, dict[str, Any]], None]
Greeting = Callable[[WorkerSlot], list[Message]]  # what a worker gets after its hello
ProblemSink = Callable[[str, str | None], None]  # (source, reason or None: solved)


@dataclass(frozen=True)
class PoolOptions:
    num_workers: int = 1
    timeouts: Timeouts = field(default_factory=Timeouts)
    stop_timeout: float = 60.0  # how long stopping workers may take to send their last batch
    worker_command: tuple[str, ...] = DEFAULT_WORKER_COMMAND  # + --endpoint --slot --incarnation


class WorkerPool:
    def __init__(
        self,
        options: PoolOptions,
        link: WorkerLink,
        *,
        greeting: Greeting,
        on_event: EventSink,
        on_problem: ProblemSink,
    ) -> None:
        self.options = options
        self.link = link
        self.greeting = greeting
        self.on_event = on_event
        self.on_problem = on_problem
        self.slots = [WorkerSlot(slot=i) for i in range(options.num_workers)]
        self.by_identity: dict[bytes, WorkerSlot] = {}
        self.dropped = 0  # messages refused: undecodable, from an unknown worker, implausible
        self.stop_sent = False

    # -- messages ------------------------------------------------------------------------

    def drop(self, slot: WorkerSlot | None, why: str) -> None:
        """Count a message refused; a slot's own garbage counts toward restarting it."""
        self.dropped += 1
        log.debug("dropped a message: %s", why)
        if slot is not None:
            slot.garbage += 1

    def sender(self, identity: bytes, message: Message) -> WorkerSlot | None:
        """The slot of a message's live incarnation; None (and the message dropped) if it has
        none: an unknown peer, or a restarted worker's predecessor."""
        slot = self.by_identity.get(identity)
        if slot is None or getattr(message, "incarnation", None) != slot.incarnation:
            self.drop(None, f"{type(message).__name__} from an unknown or old worker")
            return None
        slot.last_message_at = time.monotonic()
        return slot

    def on_hello(self, identity: bytes, hello: Hello) -> None:
        if not 0 <= hello.slot < len(self.slots):
            self.drop(None, f"hello for unknown slot {hello.slot}")
            return
        slot = self.slots[hello.slot]
        if hello.nonce != slot.nonce or hello.incarnation != slot.incarnation:
            self.drop(None, f"hello with a stale nonce for slot {hello.slot}")
            return
        if slot.identity is not None:
            # One hello per incarnation: a second one (a copied nonce) must not take the slot
            # from the worker that has it, whatever it sends.
            self.drop(None, f"second hello for slot {hello.slot}, incarnation {slot.incarnation}")
            log.warning(
                "refused a second hello for worker %d (incarnation %d) from another peer",
                hello.slot,
                hello.incarnation,
            )
            return
        slot.identity = identity
        self.by_identity[identity] = slot
        slot.state = "compiling"
        slot.last_message_at = time.monotonic()
        for message in self.greeting(slot):
            self.link.send(identity, message)
        if self.stop_sent:
            # It started after the stop went out (e.g. the target was reached while it was
            # spawning): it must not train until the stop timeout.
            self.link.send(identity, Stop(reason="stopping"))

    def on_report(self, slot: WorkerSlot, message: Message, now: float) -> None:
        """What a worker says about itself: heartbeats, ready, an error, goodbye."""
        if isinstance(message, Heartbeat):
            if message.iterations_done > slot.incarnation_iterations:
                slot.last_progress_at = now
            slot.incarnation_iterations = message.iterations_done
            slot.pruned = (message.pruned_actions, message.prunable_actions)
            slot.rss_bytes = message.rss_bytes
            if slot.state in UP_SLOT_STATES and message.state != "idle":
                slot.state = message.state
        elif isinstance(message, Ready):
            slot.state = "running"
            slot.last_progress_at = now
            self.on_event(
                "worker", {"slot": slot.slot, "pid": slot.pid, "what": "ready", "reason": None}
            )
            log.info(
                "worker %d ready (compiled or loaded kernels in %.1f s)",
                slot.slot,
                message.compile_seconds,
            )
        elif isinstance(message, Error):
            slot.last_error = f"{message.exc_type}: {message.message}"
            slot.incarnation_error = slot.last_error
            slot.last_traceback = message.traceback
            log.error(
                "worker %d raised %s\n%s", slot.slot, slot.last_error, message.traceback.rstrip()
            )
        elif isinstance(message, Bye):
            slot.state = "stopped"
        else:
            self.drop(slot, f"a worker may not send {type(message).__name__}")

    def credit(self, slot: WorkerSlot, delta: Delta, now: float) -> None:
        """A merged batch: the slot progressed."""
        slot.merged_iterations += delta.iterations
        slot.last_progress_at = now
        slot.batch_seconds.append(delta.batch_seconds)

    def broadcast(self, message: Message) -> None:
        for slot in self.slots:
            if slot.identity is not None and slot.alive:
                self.link.send(slot.identity, message)

    def send_stop(self, reason: str) -> None:
        self.stop_sent = True
        self.broadcast(Stop(reason=reason))

    # -- processes -----------------------------------------------------------------------

    async def spawn(self, slot: WorkerSlot) -> None:
        await slot.spawn(self.link.endpoint, self.options.worker_command)
        self.on_event(
            "worker", {"slot": slot.slot, "pid": slot.pid, "what": "spawned", "reason": None}
        )

    async def start(
        self, *, stopping: Callable[[], bool], forced: Callable[[], bool], log_path: Path
    ) -> bool:
        """Start-up check: worker 0 must say hello and get ready before the rest start.

        Returns True once it is ready (the others are spawned), False if the run was stopped
        meanwhile. Raises HoldemdError if it cannot start, KeyboardInterrupt if forced.
        """
        first = self.slots[0]
        log.info(
            "starting worker 0; a first start on this machine compiles the kernels (a minute "
            "or so, cached afterwards); the time budget starts when it is ready"
        )
        await self.spawn(first)
        timeouts = self.options.timeouts
        deadline = time.monotonic() + timeouts.compile
        while first.state != "running":
            await asyncio.sleep(TICK_SECONDS)
            if self.stop_sent:
                return False  # it reached the iteration target already
            if forced():
                raise KeyboardInterrupt
            if stopping():
                # Nothing trained yet, so nothing to wait for: the run then ends as
                # interrupted, like a stop at any later time.
                await first.kill(timeouts.kill_grace)
                return False
            if not first.alive or first.last_error or time.monotonic() > deadline:
                alive = first.alive
                await first.kill(timeouts.kill_grace)
                code = first.process.returncode if first.process else None
                if first.last_error:
                    why = first.last_error
                elif not alive:
                    why = exit_text(code)
                else:
                    why = "it did not get ready in time"
                raise HoldemdError(
                    f"start-up check failed: worker 0 could not start: {why} (log: {log_path})"
                )
        return True

    async def start_the_others(self) -> None:
        for slot in self.slots[1:]:
            if self.stop_sent:
                break
            await self.spawn(slot)

    async def watch(self) -> None:
        """Restart workers that exited, hung or sent garbage, with backoff; a slot that keeps
        failing gives up and degrades the run. Raises HoldemdError when none can run."""
        timeouts = self.options.timeouts
        now = time.monotonic()
        for slot in self.slots:
            if slot.state in FINAL_SLOT_STATES:
                continue
            if slot.restart_at is not None:
                if now >= slot.restart_at:
                    slot.restarts += 1
                    await self.spawn(slot)
                continue
            reason = self._trouble(slot, now)
            if reason is None:
                continue
            what = "hung" if reason.startswith("hung") else "exited"
            self.on_event(
                "worker", {"slot": slot.slot, "pid": slot.pid, "what": what, "reason": reason}
            )
            await slot.kill(timeouts.kill_grace)
            if slot.record_failure(reason, timeouts):
                log.warning(
                    "worker %d %s; restarting in %.1f s",
                    slot.slot,
                    reason,
                    slot.restart_at - time.monotonic() if slot.restart_at else 0.0,
                )
            else:
                why = (
                    f"worker {slot.slot} failed {timeouts.failures_allowed} times in "
                    f"{timeouts.failure_window:.0f} s and is not restarted: {slot.last_error}"
                )
                self.on_problem(f"worker {slot.slot}", why)
                log.error("run degraded: %s", why)
        if all(slot.state == "failed" for slot in self.slots):
            reasons = "; ".join(
                f"worker {s.slot} failed {timeouts.failures_allowed} times in "
                f"{timeouts.failure_window:.0f} s and is not restarted: {s.last_error}"
                for s in self.slots
            )
            raise HoldemdError(f"no worker can run: {reasons}")

    def _trouble(self, slot: WorkerSlot, now: float) -> str | None:
        """Why this slot's worker must be restarted now, or None."""
        timeouts = self.options.timeouts
        reason = None
        if not slot.alive:
            reason = exit_text(slot.process.returncode if slot.process else None)
        elif slot.garbage > timeouts.garbage_allowed:
            reason = f"sent {slot.garbage} undecodable messages"
        else:
            hung = slot.suspect_reason(now, timeouts)
            if hung is not None:
                reason = f"hung: {hung}"
        if reason is not None and slot.incarnation_error and "exited" in reason:
            reason = f"{reason} after {slot.incarnation_error}"
        return reason

    def resume_progress(self, now: float) -> None:
        """A pause is not a stall: progress is judged from the resume on."""
        for slot in self.slots:
            slot.last_progress_at = now

    def update_rates(self, now: float, paused: bool) -> None:
        for slot in self.slots:
            if paused:
                slot.rate_meter.reset()
            # Over the same window as the run's: per batch, the rates would be a sawtooth.
            slot.rate = slot.rate_meter.add(now, slot.merged_iterations)

    async def stop(self, reason: str, forced: Callable[[], bool]) -> None:
        """Ask every worker to stop after its batch (the run merges what they send meanwhile);
        then make sure."""
        if not self.stop_sent:
            self.send_stop(reason)
        deadline = time.monotonic() + self.options.stop_timeout
        while any(s.alive for s in self.slots) and time.monotonic() < deadline and not forced():
            await asyncio.sleep(TICK_SECONDS)
        await self.kill_all(self.options.timeouts.kill_grace)
        for slot in self.slots:
            if slot.state != "failed":
                slot.state = "stopped"

    async def kill_all(self, grace: float) -> None:
        await asyncio.gather(*(slot.kill(grace) for slot in self.slots))

    @property
    def up(self) -> int:
        return sum(1 for slot in self.slots if slot.state in UP_SLOT_STATES)


def exit_text(code: int | None) -> str:
    if code is None:
        return "exited"
    if code < 0:
        try:
            return f"exited: killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"exited: killed by signal {-code}"
    return f"exited with code {code}"
