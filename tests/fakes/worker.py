"""A fake worker: speaks the worker protocol like ``holdemd.worker`` but runs no kernel.

The supervisor starts it through ``RunOptions.worker_command`` (see :func:`command`),
so the supervisor's failure handling is tested in seconds, with no numba compile and no fault
hook in the real worker. A "batch" is a sleep of ``--batch-seconds`` followed by a delta of
``batch_size`` iterations that adds small values to a few rows; heartbeats go out every
``heartbeat_interval`` as the real worker's do.

Faults (``--fault KIND``) apply to the slots in ``--slots`` (default: all), in every
incarnation unless ``--first-incarnation-only``:

``raise``        send an ``error`` message (RuntimeError "injected fault for tests") and exit 1,
                 after ``--after`` batches (``--after -1``: while starting, before ``ready``)
``crash``        exit 1 without a word after ``--after`` batches
``hang``         after ``--after`` batches stop sending anything and sleep (no CPU)
``busy``         after ``--after`` batches compute for ``--busy-seconds`` without a message,
                 then go on (busy, not hung)
``no-ready``     say hello, then never get ready
``exit-at-once`` exit 3 before saying hello
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import zmq

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
    Stop,
    Welcome,
)
from holdemd.worker import die_with_parent

FAULT_MESSAGE = "injected fault for tests"
FAULTS = ("raise", "crash", "hang", "busy", "no-ready", "exit-at-once")


def command(*args: str) -> tuple[str, ...]:
    """The ``worker_command`` that runs this fake with ``args`` (e.g. "--fault", "crash")."""
    return (sys.executable, str(Path(__file__).resolve()), *args)


def _inject_fault() -> None:
    raise RuntimeError(FAULT_MESSAGE)


class FakeWorker:
    def __init__(self, args: argparse.Namespace, nonce: str) -> None:
        self.args = args
        self.nonce = nonce
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 2000)
        self.socket.connect(args.endpoint)
        self.iterations = 0
        self.seq = 0
        self.acked = 0
        self.paused = False
        self.stopping: str | None = None
        slots = {int(s) for s in args.slots.split(",")} if args.slots else None
        applies = (slots is None or args.slot in slots) and (
            not args.first_incarnation_only or args.incarnation == 1
        )
        self.fault = args.fault if applies else None

    def send(self, message: object) -> None:
        self.socket.send(encode(message))  # type: ignore[arg-type]

    def heartbeat(self, state: str) -> None:
        self.send(
            Heartbeat(
                slot=self.args.slot,
                incarnation=self.args.incarnation,
                iterations_done=self.iterations,
                batch_seconds=self.args.batch_seconds,
                rss_bytes=0,
                state=state,  # type: ignore[arg-type]
                cpu_seconds=time.process_time(),
            )
        )

    def handle_incoming(self, timeout_ms: int = 0) -> None:
        while self.socket.poll(timeout_ms):
            timeout_ms = 0
            try:
                message = decode(self.socket.recv())
            except ProtocolError:
                continue
            if isinstance(message, Pause):
                self.paused = True
            elif isinstance(message, Resume):
                self.paused = False
            elif isinstance(message, Stop):
                self.stopping = message.reason
            elif isinstance(message, Ack):
                self.acked = max(self.acked, message.seq)

    def sleep(self, seconds: float, interval: float, state: str = "running") -> None:
        """Wait ``seconds``, heartbeating and handling messages as the real worker does."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.handle_incoming(timeout_ms=int(1000 * min(left, interval)))
            self.heartbeat(state)
            if self.stopping is not None:
                return

    def run(self) -> int:
        args = self.args
        if self.fault == "exit-at-once":
            return 3
        self.send(
            Hello(pid=os.getpid(), slot=args.slot, incarnation=args.incarnation, nonce=self.nonce)
        )
        if not self.socket.poll(60_000):
            return 1
        welcome = decode(self.socket.recv())
        assert isinstance(welcome, Welcome)
        try:
            return self.train(welcome)
        except Exception as exc:
            self.send(Error.from_exception(args.slot, args.incarnation, exc))
            return 1

    def train(self, welcome: Welcome) -> int:
        args = self.args
        interval = welcome.spec.heartbeat_interval
        self.heartbeat("compiling")
        if self.fault == "raise" and args.after < 0:
            _inject_fault()
        if self.fault == "no-ready":
            while True:
                time.sleep(1)
        self.sleep(args.compile_seconds, interval, "compiling")
        self.send(Ready(slot=args.slot, incarnation=args.incarnation, compile_seconds=0.0))
        rows = np.arange(min(4, welcome.tables["regret"].shape[0]), dtype=np.int32)
        actions = welcome.tables["regret"].shape[1]
        batches = 0
        while self.stopping is None:
            if batches == args.after and self.fault is not None:
                self.misbehave()
                self.fault = None  # a busy spell ends; the other faults never return
            self.handle_incoming()
            if self.paused:
                self.sleep(interval, interval, "paused")
                continue
            self.sleep(args.batch_seconds, interval)
            if self.stopping is not None:
                break
            if self.seq and self.acked < self.seq:  # pipeline depth one, as the real worker
                while self.acked < self.seq and self.stopping is None:
                    self.sleep(interval, interval)
                if self.stopping is not None:
                    break
            self.seq += 1
            batches += 1
            self.iterations += welcome.spec.batch_size
            values = np.full((rows.size, actions), 0.01, dtype=np.float32)
            self.send(
                Delta(
                    slot=args.slot,
                    incarnation=args.incarnation,
                    seq=self.seq,
                    iterations=welcome.spec.batch_size,
                    batch_seconds=args.batch_seconds,
                    rows=rows,
                    regret=values,
                    strategy=values,
                )
            )
        if self.seq:
            deadline = time.monotonic() + 5
            while self.acked < self.seq and time.monotonic() < deadline:
                self.handle_incoming(timeout_ms=100)
        self.send(Bye(slot=args.slot, incarnation=args.incarnation, reason=self.stopping or ""))
        return 0

    def misbehave(self) -> None:
        fault = self.fault
        if fault == "raise":
            _inject_fault()
        elif fault == "crash":
            os._exit(1)
        elif fault == "hang":
            while True:
                time.sleep(1)
        elif fault == "busy":
            deadline = time.monotonic() + self.args.busy_seconds
            while time.monotonic() < deadline:
                pass  # CPU time rises, no message goes out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", choices=FAULTS)
    parser.add_argument("--after", type=int, default=0, help="batches before the fault")
    parser.add_argument("--slots", default="", help="comma-separated slots (default: all)")
    parser.add_argument("--first-incarnation-only", action="store_true")
    parser.add_argument("--compile-seconds", type=float, default=0.0)
    parser.add_argument("--batch-seconds", type=float, default=0.02)
    parser.add_argument("--busy-seconds", type=float, default=5.0)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--incarnation", type=int, required=True)
    args = parser.parse_args()
    die_with_parent()
    nonce = os.environ.pop(NONCE_ENV, "")
    worker = FakeWorker(args, nonce)
    try:
        return worker.run()
    finally:
        worker.socket.close()
        worker.context.term()


if __name__ == "__main__":
    sys.exit(main())
