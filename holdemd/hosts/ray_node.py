"""The Ray actor that keeps one ``holdemd node`` process on a Ray node (``holdemd train --ray``).

It runs on the Ray node, in the Python environment Ray starts its workers with (which must have
the same holdemd as the head), and only starts and watches a process: the node talks to the head
over ZeroMQ, never through Ray. ``ray_placement`` on the head makes one per bundle and asks it
:meth:`NodeProcess.wait`; the answer (the exit code and the last lines the node printed) tells
the head whether to place it again.

The node is started by a thread that lives as long as the node does: Linux sends
``PR_SET_PDEATHSIG`` when the *thread* that forked a process ends, so the node (and, by the
same signal, its workers) goes when the actor's process dies, whatever kills it, and never
before. The node's output goes to the actor's stderr, i.e. Ray's worker log on that node
(``/tmp/ray/session_latest/logs/worker-*.err``), line by line.
"""

from __future__ import annotations

import collections
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

TAIL_LINES = 20  # the node's last output lines, for the head's log when it ends
_PR_SET_PDEATHSIG = 1
_SIG_DFL = 0  # the C library's SIG_DFL


def _parent_death_signal() -> Callable[[], None] | None:
    """What the child runs between fork and exec so that it gets SIGTERM when the thread that
    started it ends, and SIGINT stops it. ``prctl`` is looked up here, in the parent: the actor's process has
    threads, and loading a library in a child forked from one can deadlock (``holdemd.worker``'s
    ``die_with_parent`` runs in its own process, where it is safe)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl, set_handler = libc.prctl, libc.signal
    except (OSError, AttributeError):
        return None

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # SIGINT back to its default: a process started with it ignored (a background job of
        # a shell, some supervisors) passes that on, and Python then never turns SIGINT into
        # the KeyboardInterrupt with which `holdemd node` stops its workers and leaves.
        set_handler(signal.SIGINT, _SIG_DFL)

    return in_child


class NodeProcess:
    """One ``holdemd node`` process (the body of the Ray actor; ``ray.remote`` is applied by
    the head, so importing this module needs no Ray)."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.returncode: int | None = None
        self.pid = 0
        self.stop_requested = False
        self._started = threading.Event()
        self._ended = threading.Event()
        self._start_error: BaseException | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        threading.Thread(target=self._run, name="holdemd-node", daemon=True).start()
        self._started.wait()
        if self._start_error is not None:
            raise self._start_error

    def _run(self) -> None:
        try:
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=_parent_death_signal(),
            )
        except OSError as exc:
            self._start_error = exc
            self._started.set()
            return
        self.pid = self._process.pid
        self._started.set()
        # Output is read apart: the node's workers share its stdout, so the pipe's end can
        # come later than the node's.
        self._reader = threading.Thread(
            target=self._forward, name="holdemd-node-output", daemon=True
        )
        self._reader.start()
        self.returncode = self._process.wait()
        self._ended.set()

    def _forward(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self._process.stdout as output:
            for raw in output:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.tail.append(line)
                print(line, file=sys.stderr, flush=True)

    def where(self) -> dict[str, Any]:
        """Where the node runs: this Ray node's id and address, the host name, the pid."""
        import ray

        context = ray.get_runtime_context()
        return {
            "node_id": context.get_node_id(),
            "address": ray.util.get_node_ip_address(),
            "hostname": socket.gethostname(),
            "pid": self.pid,
            "actor_pid": os.getpid(),
        }

    def wait(self) -> tuple[int, list[str], bool]:
        """Block until the node ends: its exit code (negative: the signal that ended it), its
        last output lines, and whether :meth:`stop` asked for it."""
        self._ended.wait()
        if self._reader is not None:
            self._reader.join(1.0)  # its last lines, unless its workers still hold the pipe
        assert self.returncode is not None
        return self.returncode, list(self.tail), self.stop_requested

    def stop(self, grace: float) -> int | None:
        """SIGINT (the node stops its workers and leaves), SIGKILL after ``grace`` seconds."""
        self.stop_requested = True
        process = self._process
        if process is None:
            return None
        for sig in (signal.SIGINT, signal.SIGKILL):
            if self._ended.is_set():
                break
            try:
                process.send_signal(sig)
            except ProcessLookupError:
                break
            self._ended.wait(grace)
        return self.returncode
