"""Several "hosts" on one Linux machine: network namespaces on a bridge, for tests and benches.

``Hosts(["head", "n1", "n2"])`` builds, as a context manager::

    switch namespace            host namespaces (one per name)
    br0 ─┬─ port1  ═══veth═══  eth0 10.213.7.1/24  lo up    head
         ├─ port2  ═══veth═══  eth0 10.213.7.2/24  lo up    n1
         └─ port3  ═══veth═══  eth0 10.213.7.3/24  lo up    n2

The bridge lives in a namespace of its own, so nothing is added to the machine's own network:
no interface, route or address there, no name that could clash with another run's (only the
namespace names are global), and no traffic can leave the namespaces this object created.
Every host also gets a private ``/dev/shm`` (a directory of the machine's tmpfs bind-mounted
over it in each process started there), so a process on one host cannot attach another host's
POSIX shared memory by name, while the processes of one host share theirs as on a real machine.
The rest of the file system is shared, so run directories, configs and the venv's python are
seen alike everywhere; ``private_tmp=True`` gives each host its own ``/tmp`` too (then pass
paths outside ``/tmp``: pytest's ``tmp_path`` is under it).

Processes start with :meth:`Hosts.spawn` (a ``Popen``, the process itself: ``ip netns exec``
and the shell that mounts ``/dev/shm`` both ``exec``), or :meth:`Hosts.command` for an argv to
start some other way (asyncio). Pass the venv's python by absolute path (``sys.executable``).
At exit every process inside the namespaces is killed (found by namespace, so also grandchildren
that left their process group), then the namespaces and directories are removed; also when the
body raises. Names carry the creating process's pid and start time, so leftovers of a run that
died (SIGKILL, a killed pytest-xdist worker) are recognised and removed by the next ``Hosts``,
and two processes never pick the same names (``netns_cleanup``; the ``ip``/``tc`` calls and
``NetnsError`` are in ``netns_tools``).

Fault and link helpers: :meth:`Hosts.link_down` / :meth:`Hosts.link_up` take the host's
switch port down (the host's ``eth0`` stays up but loses carrier, as when a cable is pulled:
packets vanish and TCP times out rather than failing at once); :meth:`Hosts.shape` puts a
token bucket (``tc tbf``) on both directions of the host's link; :meth:`Hosts.crash` kills every
process on the host and empties its ``/dev/shm``, as a power cut would.

Needs root, ``ip``, ``tc``, ``mount`` and ``sh``; :func:`unavailable` says why not, else None.
Importable from ``bench/`` once the repository root is on ``sys.path``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.hosts.netns_cleanup import (
    STATE_ROOT,
    kill_namespaces,
    pids_in,
    reap,
    remove_path,
    remove_run,
    remove_stale,
    run_tag,
)
from tests.hosts.netns_tools import NetnsError, ip_batch, qdiscs, rate_bits, tc

SUBNET = "10.213.7"  # hosts get .1, .2, ... in the order given; each Hosts is its own network
HOST_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
TOOLS = ("ip", "tc", "mount", "sh")
# Runs in the host's namespace, in the mount namespace `ip netns exec` makes (its mounts are
# slaves of the machine's, so nothing here propagates back): $0 = the host's shm directory,
# $1 = its tmp directory or "-", then the argv to exec. /tmp first: both directories are under
# the machine's /dev/shm, which the second mount hides.
MOUNT_AND_EXEC = (
    'set -e; [ "$1" = - ] || mount --bind "$1" /tmp; mount --bind "$0" /dev/shm; shift; exec "$@"'
)


_sequence = itertools.count()
_open: set[Hosts] = set()  # started and not closed: closed at exit if their owner forgot


def unavailable() -> str | None:
    """Why ``Hosts`` cannot work here (one line), or None when it can: checked once per process
    by building a one-host network, shaping its link and running a command in it."""
    return _probe()


def _diagnose() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux-only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "network namespaces need root (run the tests as root, as CI does)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not on PATH (install iproute2 / util-linux)"
    try:
        with Hosts(["probe"]) as hosts:
            hosts.shape("probe")
            hosts.run("probe", ["true"], check=True)
    except (NetnsError, OSError, subprocess.SubprocessError) as error:
        return f"cannot build a network namespace here: {error}"
    return None


_probe = functools.cache(_diagnose)


class Hosts:
    """Named hosts, each in its own network namespace on one bridge; see the module docstring."""

    def __init__(
        self, names: Sequence[str], *, private_tmp: bool = False, subnet: str = SUBNET
    ) -> None:
        for name in names:
            if not HOST_NAME.fullmatch(name):
                raise NetnsError(f"netns: host name {name!r}: use [a-z][a-z0-9-]*, up to 32")
        if len(set(names)) != len(names) or not 0 < len(names) < 254:
            raise NetnsError(f"netns: host names {list(names)}: give 1 to 253 distinct names")
        self.names = list(names)
        self.subnet = subnet
        self.private_tmp = private_tmp
        self.tag = run_tag(next(_sequence))
        self.switch = self.tag
        self.root = STATE_ROOT / self.tag
        self._procs: dict[str, list[subprocess.Popen[Any]]] = {name: [] for name in names}
        self._started = False

    # ---- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Hosts:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> Hosts:
        """Build the network (removing dead runs' leftovers first); undone in full on failure."""
        if self._started:
            raise NetnsError(f"netns: {self.tag} is running already")
        remove_stale()
        self._started = True
        _open.add(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self) -> None:
        for name in self.names:
            for sub in ("shm", "tmp") if self.private_tmp else ("shm",):
                (self.root / name / sub).mkdir(parents=True)
                (self.root / name / sub).chmod(0o1777)
        ip_batch(None, [f"netns add {ns}" for ns in [self.switch, *map(self.netns, self.names)]])
        switch = ["link add br0 type bridge", "link set br0 up"]
        for index, name in enumerate(self.names, 1):
            switch += [
                f"link add port{index} type veth peer name eth0 netns {self.netns(name)}",
                f"link set port{index} master br0 up",
            ]
        ip_batch(self.switch, switch)
        for name in self.names:
            ip_batch(
                self.netns(name),
                [
                    f"addr add {self.address(name)}/24 dev eth0",
                    "link set eth0 up",
                    "link set lo up",
                ],
            )

    def close(self) -> None:
        """Kill every process on the hosts, remove the namespaces and directories (idempotent)."""
        if not self._started:
            return
        self._started = False
        _open.discard(self)
        try:
            remove_run(self.tag, [proc for procs in self._procs.values() for proc in procs])
        finally:
            for procs in self._procs.values():
                procs.clear()

    # ---- names and addresses -----------------------------------------------------------------

    def netns(self, host: str) -> str:
        """The host's network namespace name (``ip -n NAME ...``)."""
        self._index(host)
        return f"{self.tag}.{host}"

    def address(self, host: str) -> str:
        """The host's IPv4 address on the bridge."""
        return f"{self.subnet}.{self._index(host)}"

    def shm_dir(self, host: str) -> Path:
        """The directory every process on ``host`` sees as ``/dev/shm``."""
        self._index(host)
        return self.root / host / "shm"

    def _index(self, host: str) -> int:
        if host not in self.names:
            raise NetnsError(f"netns: no host {host!r} (hosts: {', '.join(self.names)})")
        return self.names.index(host) + 1

    # ---- processes ---------------------------------------------------------------------------

    def command(self, host: str, argv: Sequence[str]) -> list[str]:
        """``argv`` wrapped to run on ``host``: its network, its ``/dev/shm`` (and ``/tmp``).
        Whatever it starts is killed at exit even when not started through :meth:`spawn`."""
        if not self._started:
            raise NetnsError(f"netns: {self.tag} is not running (use `with Hosts(...)`)")
        self._index(host)
        host_dir = self.root / host
        tmp = str(host_dir / "tmp") if self.private_tmp else "-"
        return [
            *("ip", "netns", "exec", self.netns(host)),
            *("sh", "-c", MOUNT_AND_EXEC, str(host_dir / "shm"), tmp, *argv),
        ]

    def spawn(self, host: str, argv: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` on ``host`` in a new session (``Popen`` keyword arguments pass through);
        its pid is the program's own. Killed, with all it started, when the hosts close."""
        proc: subprocess.Popen[Any] = subprocess.Popen(
            self.command(host, argv), start_new_session=True, **popen
        )
        self._procs[host].append(proc)
        return proc

    def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        check: bool = False,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on ``host`` to completion, output captured as text."""
        proc = self.spawn(
            host,
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            out, err = proc.communicate(input, timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
            self._procs[host].remove(proc)  # done: nothing left to kill or reap
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        if check and done.returncode != 0:
            last = (err.strip().splitlines() or ["no output"])[-1]
            raise NetnsError(
                f"netns: `{' '.join(argv)}` on {host} exited {done.returncode}: {last}"
            )
        return done

    def pids(self, host: str) -> list[int]:
        """Every process running on ``host`` now."""
        return pids_in([self.netns(host)]).get(self.netns(host), [])

    def crash(self, host: str) -> None:
        """Kill every process on ``host`` and empty its ``/dev/shm`` (and ``/tmp``), as a power
        cut would; the network stays, so the host can start again."""
        kill_namespaces([self.netns(host)])
        reap(self._procs[host])
        self._procs[host].clear()
        for sub in ("shm", "tmp"):
            directory = self.root / host / sub
            if directory.is_dir():
                for entry in directory.iterdir():
                    remove_path(entry)

    # ---- the link ----------------------------------------------------------------------------

    def link_down(self, host: str) -> None:
        """Cut ``host``'s link at the switch: its ``eth0`` loses carrier, packets vanish."""
        ip_batch(self.switch, [f"link set port{self._index(host)} down"])

    def link_up(self, host: str) -> None:
        """Restore ``host``'s link; the bridge forwards again at once (no STP)."""
        ip_batch(self.switch, [f"link set port{self._index(host)} up"])

    def shape(
        self, host: str, rate: str = "1gbit", *, burst: int | None = None, latency: str = "5ms"
    ) -> None:
        """A token bucket on both directions of ``host``'s link: egress of its ``eth0`` (what it
        sends) and of its switch port (what it receives). ``rate`` in tc's bit units (``1gbit``,
        ``100mbit``); ``burst`` bytes default to 1 ms at the rate, at least 64 KiB + one frame,
        so a full GSO packet passes unsplit; ``latency`` bounds the queue (tc's ``limit``).
        Replaces any earlier shaping."""
        bits = rate_bits(rate)
        size = burst if burst is not None else max(bits // 8000, 65536 + 1514)
        qdisc = f"root tbf rate {bits}bit burst {size} latency {latency}"
        tc(self.netns(host), f"qdisc replace dev eth0 {qdisc}")
        tc(self.switch, f"qdisc replace dev port{self._index(host)} {qdisc}")

    def unshape(self, host: str) -> None:
        """Remove :meth:`shape`'s token buckets (nothing to do if there are none)."""
        for netns, device in (
            (self.netns(host), "eth0"),
            (self.switch, f"port{self._index(host)}"),
        ):
            if "tbf" in qdiscs(netns, device):
                tc(netns, f"qdisc del dev {device} root")

    def qdiscs(self, host: str) -> tuple[str, str]:
        """``tc qdisc show`` of the host's ``eth0`` and of its switch port."""
        return qdiscs(self.netns(host), "eth0"), qdiscs(self.switch, f"port{self._index(host)}")


@atexit.register
def _close_open() -> None:
    """Hosts a process forgot to close go when it exits (a crash is left to remove_stale)."""
    for hosts in list(_open):
        with contextlib.suppress(Exception):
            hosts.close()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 120.0) -> Any:
    """``check()``'s first true value, polled every 0.2 s; AssertionError naming ``what`` after
    ``timeout`` seconds (what the multi-host tests wait on: a host's state, a log line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
