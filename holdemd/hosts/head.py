"""The head's end of a multi-host run: a ZeroMQ ROUTER on TCP (CURVE) for ``holdemd node``s.

A node's delta is merged like a worker's (floors, integer rounding and discounts stay the
head's alone), its iterations count toward the run's, and the answer carries the current
values of the rows that node lacks (``feed``), at most :data:`UPDATE_BYTES` per answer. Frames
are handled from an asyncio reader callback, one at a time, between two awaits of the loop
that merges the local workers' deltas: no merge interleaves with another.

A host silent for :data:`HOST_TIMEOUT` seconds is dropped with its unacknowledged delta (at most
one interval of its work), logged and shown; it rejoins (a new session, the whole table again)
when it is back. See ``protocol.hosts`` for the exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from holdemd import __version__
from holdemd.config.binder import dataclass_to_dict
from holdemd.games.cache import game_key
from holdemd.hosts.curve import peer_address, peer_name
from holdemd.hosts.feed import ReplicaFeed
from holdemd.hosts.guard import HeadSecurity
from holdemd.hosts.keys import HeadKeys, load_head_keys
from holdemd.hosts.remote import RemoteHost
from holdemd.jit import source_digest
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.host_codec import decode, encode
from holdemd.protocol.hosts import (
    MAX_HOST_MESSAGE_BYTES,
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
from holdemd.training.link import receive_frames

if TYPE_CHECKING:
    from holdemd.training.run import TrainingRun

log = logging.getLogger("holdemd.hosts")

HOST_TIMEOUT = 6.0  # seconds without a message from a host: it is gone
BEAT_INTERVAL = 1.0
UPDATE_BYTES = 16 * 1024 * 1024  # regret values per answer (a joining host's table in chunks)
HOST_BATCHES = 10_000  # a host's delta holds at most this many batches per worker
MAX_BURST = 16


class HostsHead:
    def __init__(self, run: TrainingRun, endpoint: str, keys: HeadKeys) -> None:
        self.run = run
        self.hosts: dict[str, RemoteHost] = {}
        self.by_identity: dict[bytes, RemoteHost] = {}
        self.sessions = 0
        self.dropped = 0
        self.last_beat = 0.0
        game = run.game
        self.game_key = game_key(run.config.game, game.abstraction_digest)
        self.code = source_digest()
        self.config_map = dataclass_to_dict(run.config)
        self.feed = ReplicaFeed(game, run.tables, self.hosts.values(), UPDATE_BYTES)
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        # The guard answers ZAP for this context: only the key directory's hosts get in,
        # each named by its key; every refusal is logged (hosts.guard).
        self.security = HeadSecurity(self.context, keys, log)
        self.security.start()
        self.socket: zmq.Socket[bytes] = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SNDHWM, 0)  # one answer in flight per host: few
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_HOST_MESSAGE_BYTES)
        self.socket.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a reconnecting host takes its name
        self.security.secure_server(self.socket)
        try:
            self.socket.bind(endpoint)
        except zmq.ZMQError as exc:
            self.close()
            from holdemd.errors import UsageError

            raise UsageError(f"--listen {endpoint}: cannot listen there: {exc}") from exc
        self.endpoint = endpoint
        self._readable = asyncio.Event()
        run.dispatch.on_merged = self.feed.changed
        run.schedule.on_discount_started = self.feed.discount_started
        run.schedule.on_discount_done = self.feed.discount_done

    # -- the socket ------------------------------------------------------------------------

    async def receive(self) -> None:
        """Handle every frame until cancelled (as the workers' link does)."""

        def handle(frames: list[zmq.Frame]) -> None:
            try:
                self.on_frame(frames[0].bytes, frames[-1])
            except Exception:  # a bug must not kill the loop merging everyone's work
                log.exception("error handling a host message")

        await receive_frames(self.socket, self._readable, handle, copy=False, burst=MAX_BURST)

    def poke(self) -> None:
        if int(self.socket.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
            self._readable.set()

    def send(self, host: RemoteHost, message: HostMessage) -> None:
        self._send(host.identity, message, host)

    def _send(self, identity: bytes, message: HostMessage, host: RemoteHost | None = None) -> None:
        data = encode(message)
        with contextlib.suppress(zmq.ZMQError):
            self.socket.send_multipart([identity, data], zmq.NOBLOCK)
            if host is not None:
                host.bytes_out += len(data)
        self.poke()

    def close(self) -> None:
        self.security.stop()
        self.socket.close()
        self.context.term()

    # -- messages --------------------------------------------------------------------------

    def on_frame(self, identity: bytes, frame: zmq.Frame) -> None:
        now = time.monotonic()
        try:
            message = decode(frame.buffer)
        except ProtocolError as exc:
            self.dropped += 1
            log.warning("dropped a message from %s: %s", peer_address(frame), exc)
            return
        if isinstance(message, Join):
            self.on_join(identity, frame, message, now)
            return
        host = self.by_identity.get(identity)
        session = getattr(message, "session", None)
        if host is None or not host.connected or session != host.session:
            self.dropped += 1  # an older session's message, still queued somewhere
            return
        host.last_contact = now
        host.last_contact_wall = time.time()
        host.bytes_in += len(frame.buffer)
        if isinstance(message, Check):
            self.on_check(host, message)
        elif isinstance(message, HostDelta):
            self.on_delta(host, message, now)
        elif isinstance(message, Leave):
            log.info("host %s left: %s", host.name, message.reason)
            self.end(host, "left", message.reason)
        elif not isinstance(message, HostBeat):
            self.dropped += 1

    def on_join(self, identity: bytes, frame: zmq.Frame, join: Join, now: float) -> None:
        name = peer_name(frame)
        address = peer_address(frame)
        why, retry = None, False
        if name != join.name:
            why = f"its key belongs to host {name!r}, but it calls itself {join.name!r}"
        elif join.code != self.code or join.version != __version__:
            why = (
                f"it runs holdemd {join.version} (code {join.code}), the head {__version__} "
                f"(code {self.code}): install the same holdemd on every host"
            )
        elif self.run.pool.stop_sent:
            why, retry = "the run is stopping", True
        if why is not None:
            log.warning("refused host %s at %s: %s", name, address, why)
            self._send(identity, Refused(reason=why, retry=retry))
            return
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = RemoteHost(name=name, index=len(self.hosts) + 1)
        elif host.connected:
            log.warning(
                "host %s joined again (from %s): its previous session is dropped", name, address
            )
            self.by_identity.pop(host.identity, None)
        self.sessions += 1
        host.start_session(self.sessions, identity, now)
        self.feed.join(host)
        host.address = address
        host.num_workers = join.num_workers
        self.by_identity[identity] = host
        run = self.run
        schedule = run.schedule
        log.info(
            "host %s joined from %s with %d worker(s) (session %d)",
            name,
            address,
            join.num_workers,
            host.session,
        )
        self.send(
            host,
            Joined(
                run_id=run.run_id,
                session=host.session,
                host_index=host.index,
                config=self.config_map,
                spec=run.dispatch.spec,
                settings=schedule.settings,
                regret_floor=_wire_floor(schedule.regret_floor),
                iteration=run.iteration,
                lazy=self.feed.lazy is not None,
            ),
        )

    def on_check(self, host: RemoteHost, check: Check) -> None:
        game = self.run.game
        theirs = check.abstraction_digest or None
        why = None
        if theirs != game.abstraction_digest:
            why = (
                f"its card abstraction differs (digest {(theirs or 'none')[:12]} vs the head's "
                f"{(game.abstraction_digest or 'none')[:12]}): give it the same buckets"
            )
        elif check.game_key != self.game_key:
            why = "its game differs from the head's (same config, other game code?)"
        elif (check.num_rows, check.max_actions) != (game.num_rows, game.max_actions):
            why = f"its game has {check.num_rows:,} rows x {check.max_actions}, the head's "
            why += f"{game.num_rows:,} x {game.max_actions}"
        if why is not None:
            log.warning("refused host %s: %s", host.name, why)
            self.send(host, Refused(reason=why, retry=False))
            self.end(host, "refused", why)
            return
        host.state = "syncing"

    def on_delta(self, host: RemoteHost, delta: HostDelta, now: float) -> None:
        run = self.run
        dispatch = run.dispatch
        in_sync = None
        floor = _wire_floor(run.schedule.regret_floor)
        if delta.exact and run.tables.regret.dtype.kind == "f" and delta.floor == floor:
            # The node's replica holds these rows' merged values already where it held the
            # head's before: they need not go back to it.
            in_sync = self.feed.in_sync(host, delta.rows)
        if delta.rows.size:
            why = run.merger.merge(
                delta,
                iteration=dispatch.iteration,
                floor=run.schedule.regret_floor,
                prune_probability=run.schedule.settings.prune_probability,
                max_iterations=run.config.training.batch_size
                * max(host.num_workers, 1)
                * HOST_BATCHES,
            )
            if why is not None:
                log.warning("host %s: delta refused: %s; dropping it", host.name, why)
                self.send(host, Refused(reason=f"delta refused: {why}", retry=True))
                self.end(host, "refused", f"delta refused: {why}")
                return
            self.feed.changed(delta.rows)
            if in_sync is not None:
                self.feed.settle(host, delta.rows[in_sync])
        host.deltas += 1
        host.iterations += delta.iterations
        host.workers_up = delta.workers
        host.rate = delta.rate
        if delta.iterations:
            dispatch.count(delta.iterations)
        rows, values, remaining, discounts = self.feed.update(host)
        if host.state == "syncing" and remaining == 0:
            host.state = "running"
            log.info("host %s has the whole table; its workers start", host.name)
        if delta.final:
            host.state = "stopped"
        self.send(
            host,
            HostUpdate(
                session=host.session,
                seq=delta.seq,
                iteration=dispatch.iteration,
                rows=rows,
                values=values,
                remaining=remaining,
                discounts=discounts,
                settings=run.schedule.settings,
                regret_floor=_wire_floor(run.schedule.regret_floor),
                paused=run.paused,
                stopping=run.pool.stop_sent,
            ),
        )

    # -- who is there -------------------------------------------------------------------------

    def end(self, host: RemoteHost, state: Any, reason: str) -> None:
        host.end_session(state, reason)
        self.by_identity.pop(host.identity, None)

    def tick(self, now: float) -> None:
        """Drop silent hosts; beat; update the merged rates (the run's main loop, 10/s)."""
        self.poke()
        beat = now - self.last_beat >= BEAT_INTERVAL
        if beat:
            self.last_beat = now
        for host in self.hosts.values():
            if not host.connected:
                continue
            silent = now - host.last_contact
            if silent > HOST_TIMEOUT:
                why = f"no message for {silent:.1f} s"
                log.warning(
                    "host %s lost (%s): dropped with its unacknowledged work; it resyncs "
                    "when it is back",
                    host.name,
                    why,
                )
                self.end(host, "lost", why)
                continue
            host.merged_rate = host.rate_meter.add(now, host.iterations)
            if beat:
                self.send(host, HostBeat(session=host.session))

    async def stop(self, timeout: float, forced: Any) -> None:
        """At the end of the run: wait for every running host's final delta (the updates
        tell them the run is stopping), at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not forced():
            if not any(h.state in ("syncing", "running") for h in self.hosts.values()):
                break
            await asyncio.sleep(0.1)
            self.tick(time.monotonic())

    def status(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [host.status(now) for host in self.hosts.values()]

    def scalars(self) -> dict[str, float]:
        """TensorBoard's per-host figures: ``hosts/NAME/iterations_per_s`` and bytes/s each way."""
        values: dict[str, float] = {}
        for host in self.hosts.values():
            prefix = f"hosts/{host.name}"
            values[f"{prefix}/iterations_per_s"] = host.merged_rate
            values[f"{prefix}/connected"] = float(host.connected)
            values[f"{prefix}/bytes_in"] = float(host.bytes_in)
            values[f"{prefix}/bytes_out"] = float(host.bytes_out)
        return values


def _wire_floor(floor: float | None) -> float:
    return -float("inf") if floor is None else float(floor)


def check_listen(listen: str, keys: Path | None) -> Path:
    """``--listen`` and ``--keys`` as given, or a one-line error; the key directory."""
    from holdemd.errors import UsageError

    if not listen.startswith("tcp://") or ":" not in listen[6:]:
        raise UsageError(
            f"--listen {listen}: expected tcp://ADDRESS:PORT (e.g. tcp://0.0.0.0:5555)"
        )
    if keys is None:
        raise UsageError(
            "--listen needs --keys DIR: every host link is encrypted and authenticated "
            "(make the keys with `holdemd keys init DIR --hosts NAME...`)"
        )
    return keys


def open_head(run: TrainingRun, listen: str, keys: Path | None) -> HostsHead:
    """The run's head socket at ``listen`` with the CURVE keys in ``keys``; one-line errors
    for what a multi-host run cannot do yet."""
    from holdemd.errors import UsageError

    keys = check_listen(listen, keys)
    if run.config.training.deterministic:
        raise UsageError(
            "--listen: training.deterministic runs in lockstep rounds on one host; "
            "set it to false for a multi-host run"
        )
    return HostsHead(run, listen, load_head_keys(keys))
