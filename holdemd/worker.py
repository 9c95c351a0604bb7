"""A worker process: runs MCCFR batches on the shared tables and ships the changes as deltas.

Started by the supervisor as ``python -m holdemd.worker --endpoint … --slot … --incarnation …``
with the hello nonce in ``$HOLDEMD_WORKER_NONCE``
(a fresh interpreter, its own process group). The exchange, over one ZeroMQ DEALER socket:

    hello → welcome → heartbeat(compiling) → ready → (heartbeat* delta)* … → bye | error

Heartbeats come from inside the compute loop, between chunks of a batch, so a worker that stops
computing also stops heartbeating. The worker never writes the global tables: it reads them
(plus its own pending delta) and sends the batch's changes; the supervisor merges them. A worker
killed mid-batch loses only that batch. If the supervisor disappears the worker exits by itself.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import time
from collections.abc import Sequence

import zmq

from holdemd.errors import ExitCode
from holdemd.protocol.codec import decode, encode
from holdemd.protocol.errors import ProtocolError
from holdemd.protocol.worker import (
    NONCE_ENV,
    Ack,
    Bye,
    Delta,
    Error,
    Heartbeat,
    Hello,
    Pause,
    Ready,
    Resume,
    Settings,
    Stop,
    Welcome,
    WorkerReport,
)

WELCOME_TIMEOUT_S = 60.0
MAX_DELTA_ROWS = 4_000_000  # bounds the worker-local buffer: rows x actions x 2 x 4 bytes
# Games big enough to hash their buffers' rows (6-max): a full buffer ships its batch early.
# On 6max_pluribus (150 s runs, warm kernel cache) two buffers of 1M rows left a worker 203 MiB
# of its own memory (median; 244 at most), 0.5M rows 136 MiB (199), at the same iterations/s.
MAX_HASHED_DELTA_ROWS = 500_000
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent (the supervisor) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # the getppid() check in the batch loop still catches it


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Worker:
    def __init__(self, endpoint: str, slot: int, incarnation: int, nonce: str) -> None:
        self.slot = slot
        self.incarnation = incarnation
        self.nonce = nonce
        self.parent = os.getppid()
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 2000)  # let a final delta or error get out
        self.socket.connect(endpoint)
        self.paused = False
        self.stopping: str | None = None
        self.iterations = 0
        self.seq = 0
        self.acked = 0  # highest delta seq the supervisor has merged
        self.last_batch_seconds = 0.0
        self.settings: Settings | None = None  # the schedule's latest, applied between chunks
        self.pruned = (0, 0)  # (pruned, prunable) actions, for heartbeats

    def send(self, message: object) -> None:
        self.socket.send(encode(message))  # type: ignore[arg-type]

    def heartbeat(self, state: WorkerReport) -> None:
        self.send(
            Heartbeat(
                slot=self.slot,
                incarnation=self.incarnation,
                iterations_done=self.iterations,
                batch_seconds=self.last_batch_seconds,
                rss_bytes=rss_bytes(),
                state=state,
                cpu_seconds=time.process_time(),
                pruned_actions=self.pruned[0],
                prunable_actions=self.pruned[1],
            )
        )

    def handle_incoming(self, timeout_ms: int = 0) -> None:
        """Apply pause/resume/stop messages waiting on the socket."""
        while self.socket.poll(timeout_ms):
            timeout_ms = 0
            try:
                message = decode(self.socket.recv())
            except ProtocolError:
                continue  # the supervisor counts what it sends; garbage here is dropped
            if isinstance(message, Pause):
                self.paused = True
            elif isinstance(message, Resume):
                self.paused = False
            elif isinstance(message, Stop):
                self.stopping = message.reason
            elif isinstance(message, Ack):
                self.acked = max(self.acked, message.seq)
            elif isinstance(message, Settings):
                self.settings = message

    def wait_for_ack(self, seq: int, interval: float) -> bool:
        """Wait until the supervisor acknowledges delta ``seq``; False if it never will."""
        while self.acked < seq:
            if self.supervisor_gone():
                return False
            self.handle_incoming(timeout_ms=int(interval * 1000))
            if self.acked < seq:
                self.heartbeat("running")  # still alive while the supervisor is busy
        return True

    def supervisor_gone(self) -> bool:
        return os.getppid() != self.parent

    def run(self) -> int:
        self.send(
            Hello(pid=os.getpid(), slot=self.slot, incarnation=self.incarnation, nonce=self.nonce)
        )
        if not self.socket.poll(int(WELCOME_TIMEOUT_S * 1000)):
            return int(ExitCode.FAILURE)  # nobody answered: the supervisor is gone
        welcome = decode(self.socket.recv())
        if not isinstance(welcome, Welcome):
            raise ProtocolError(f"expected welcome, got {type(welcome).__name__}")
        try:
            return self._train(welcome)
        except Exception as exc:
            self.send(Error.from_exception(self.slot, self.incarnation, exc))
            return int(ExitCode.FAILURE)

    def _train(self, welcome: Welcome) -> int:
        # Imported here: the heavy modules load while the supervisor already knows we exist.
        from holdemd.config.binder import build_dataclass
        from holdemd.config.schema import GameConfig
        from holdemd.games.cache import open_game
        from holdemd.solver.kernels.table_access import HASHED_ABOVE_ROWS
        from holdemd.solver.mccfr import ExternalSamplingMCCFR, clear_delta
        from holdemd.training.shared_tables import SharedTables

        self.heartbeat("compiling")
        started = time.monotonic()
        spec = welcome.spec
        config = build_dataclass(GameConfig, spec.game, source="welcome")
        # The supervisor's cached copy, mapped (shared with the other workers); built only if
        # there is none or it is damaged.
        game = open_game(config, spec.buckets, spec.game_cache)
        shared = SharedTables.attach(welcome.tables)
        solver = ExternalSamplingMCCFR(
            game,
            shared.tables,
            seed=spec.seed,
            stream=welcome.stream,
            linear=spec.linear,
            iteration=welcome.first_iteration,
        )
        hashed = game.num_rows > HASHED_ABOVE_ROWS
        capacity = min(game.num_rows, MAX_HASHED_DELTA_ROWS if hashed else MAX_DELTA_ROWS)
        # Two buffers: one fills with the current batch while the other holds the batch sent
        # last. The kernel reads tables + both. Until the supervisor merges the sent batch,
        # that is exactly the worker's own work; after the merge, the sent batch counts twice
        # in the current strategy (never in the tables), which makes it predictive regret
        # matching with the last batch as the prediction (Farina et al. 2021) - a stand-in for
        # the other workers' batches in flight, which this worker cannot see. In a simulation
        # of 2 concurrent workers on Leduc (batch 200, 500k iterations) it halved the
        # exploitability (0.0246 -> 0.0120); see the parity test's docstring for real runs.
        # With one worker there is nothing to stand in for, and counting a 2,000-iteration
        # batch twice doubled Kuhn's exploitability at 1e5 iterations (docs/results.md, issue
        # 14); so one worker runs in lockstep without the prediction (``spec.lockstep``: each
        # batch waits for its merge, so the numbers never depend on when it happened).
        active = solver.new_delta_buffer(capacity)
        inflight = solver.new_delta_buffer(capacity)
        inflight_seq = 0  # 0: nothing in flight
        solver.run_into(active, 0, inflight)  # compile or load the kernels
        self.send(
            Ready(
                slot=self.slot,
                incarnation=self.incarnation,
                compile_seconds=time.monotonic() - started,
            )
        )
        interval = spec.heartbeat_interval
        # Short chunks: Stop and Pause are noticed within a few milliseconds, and heartbeats
        # are never late.
        chunk_seconds = min(interval / 4, 0.005)
        chunk = 10
        last_beat = time.monotonic()
        while True:
            self.handle_incoming()
            if self.stopping is not None or self.supervisor_gone():
                break
            if self.paused:
                self.heartbeat("paused")
                self.handle_incoming(timeout_ms=int(interval * 1000))
                continue
            batch_start = time.monotonic()
            done = 0
            while done < spec.batch_size:
                asked = min(chunk, spec.batch_size - done)
                if self.settings is not None:
                    solver.prune_probability = self.settings.prune_probability
                    solver.prune_threshold = self.settings.prune_threshold
                    solver.average_streets = self.settings.average_streets
                t0 = time.monotonic()
                ran = solver.run_into(active, asked, inflight)
                self.pruned = solver.pruned_actions
                spent = time.monotonic() - t0
                done += ran
                self.iterations += ran
                chunk = max(1, min(chunk * 2, int(asked * chunk_seconds / max(spent, 1e-6))))
                self.handle_incoming()
                if self.stopping is not None:
                    break
                if ran < asked:
                    break  # the buffer is full: ship it now
                if time.monotonic() - last_beat >= interval:
                    self.heartbeat("running")
                    last_beat = time.monotonic()
            self.last_batch_seconds = time.monotonic() - batch_start
            # Pipeline depth one: the previous batch must be merged before this one is sent.
            if inflight_seq and not self.wait_for_ack(inflight_seq, interval):
                break
            if self.stopping is not None:
                # Stopped during the batch or while its predecessor was being merged: it is
                # dropped, like any unsent batch, as the target (or the user) asked for no more
                # work; the supervisor sends Stop before the Ack that would release it.
                self.iterations -= done
                break
            clear_delta(inflight)
            used = int(active.used[0])
            self.seq += 1
            self.send(
                Delta(
                    slot=self.slot,
                    incarnation=self.incarnation,
                    seq=self.seq,
                    iterations=done,
                    batch_seconds=self.last_batch_seconds,
                    rows=active.rows[:used].copy(),
                    regret=active.regret[:used].copy(),
                    strategy=active.strategy[:used].copy(),
                )
            )
            inflight_seq = self.seq
            active, inflight = inflight, active
            if spec.lockstep:
                # Nothing computes while the batch is merged, so no timing reaches the numbers
                # (repeatable runs). The next batch reads the merged tables, plus the batch
                # just merged as a prediction if asked (it is cleared before the next send).
                if not self.wait_for_ack(inflight_seq, interval):
                    break
                if not spec.prediction:
                    clear_delta(inflight)
                inflight_seq = 0
            if time.monotonic() - last_beat >= interval:
                self.heartbeat("running")
                last_beat = time.monotonic()
        if inflight_seq:
            self.wait_for_ack(inflight_seq, interval)  # the supervisor merges until it stops
        self.send(
            Bye(
                slot=self.slot,
                incarnation=self.incarnation,
                reason=self.stopping or "supervisor gone",
            )
        )
        shared.close()
        return int(ExitCode.OK)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="holdemd worker", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--incarnation", type=int, required=True)
    args = parser.parse_args(argv)
    # The hello nonce comes in the environment, not on the (world-readable) command line;
    # popped so that nothing this process starts inherits it.
    nonce = os.environ.pop(NONCE_ENV, "")
    if not nonce:
        parser.error(f"${NONCE_ENV} is not set (workers are started by the supervisor)")
    die_with_parent()
    worker = Worker(args.endpoint, args.slot, args.incarnation, nonce)
    try:
        return worker.run()
    finally:
        worker.socket.close()


if __name__ == "__main__":
    sys.exit(main())
