"""What a ``Hosts`` run leaves on the machine, how it is named, and how it goes away.

A run is named ``hnet-<pid>-<start time>-<sequence>``: its switch namespace has that name, each
host's namespace adds ``.<host>``, and its directory ``/dev/shm/<name>`` holds the hosts'
``/dev/shm`` (and ``/tmp``). The pid and start time say whether the process that built it still
runs, so :func:`remove_stale` can remove the leftovers of a run that died (SIGKILL, a killed
pytest-xdist worker) without ever touching a live one, and two processes never pick one name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from tests.daemon.processes import alive, proc_stat, wait_for
from tests.hosts.netns_tools import NetnsError, ip_batch

PREFIX = "hnet"  # every namespace and directory a run creates starts with it
NETNS_DIR = Path("/run/netns")  # where `ip netns add` pins namespaces by name
STATE_ROOT = Path("/dev/shm")  # tmpfs: the hosts' /dev/shm directories live here
RUN_NAME = re.compile(rf"{PREFIX}-(\d+)-(\d+)-(\d+)(\..+)?")
KILL_WAIT = 5.0  # seconds for SIGKILLed processes to leave a namespace


def run_tag(sequence: int) -> str:
    """The name of this process's ``sequence``-th run."""
    stat = proc_stat(os.getpid())
    if stat is None:
        raise NetnsError(f"netns: cannot read /proc/{os.getpid()}/stat: is /proc mounted?")
    return f"{PREFIX}-{os.getpid()}-{stat[2]}-{sequence}"


def namespaces_of(tag: str) -> list[str]:
    """The namespaces of run ``tag`` that exist now."""
    if not NETNS_DIR.is_dir():
        return []
    return [p.name for p in NETNS_DIR.glob(f"{tag}*") if p.name.split(".", 1)[0] == tag]


def remove_stale() -> list[str]:
    """Remove namespaces and directories left by runs whose process is gone, killing what still
    runs in them; the run tags removed. Live runs of other processes are never touched."""
    with stale_lock():
        names = [p.name for p in NETNS_DIR.glob(f"{PREFIX}-*")] if NETNS_DIR.is_dir() else []
        names += [p.name for p in STATE_ROOT.glob(f"{PREFIX}-*")]
        tags = sorted({name.split(".", 1)[0] for name in names if _is_stale(name)})
        for tag in tags:
            remove_run(tag, [])
    return tags


@contextlib.contextmanager
def stale_lock() -> Iterator[None]:
    """Held while removing stale runs, so that two processes never remove the same one at once.
    It is an flock on the ``/dev/shm`` directory itself: no lock file to leave behind."""
    fd = os.open(STATE_ROOT, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _is_stale(name: str) -> bool:
    match = RUN_NAME.fullmatch(name)
    return match is not None and not alive(int(match[1]), int(match[2]))


def remove_run(tag: str, procs: list[subprocess.Popen[Any]]) -> None:
    """Kill what runs in ``tag``'s namespaces, reap ``procs`` (the children that started there),
    delete the namespaces (their interfaces go with them) and the run's directory."""
    namespaces = namespaces_of(tag)
    kill_namespaces(namespaces)
    reap(procs)
    if namespaces:
        ip_batch(None, [f"netns del {netns}" for netns in namespaces])
    remove_path(STATE_ROOT / tag)


def kill_namespaces(namespaces: Iterable[str]) -> None:
    """SIGKILL every process in ``namespaces`` until none is left."""
    namespaces = list(namespaces)

    def kill_all() -> bool:
        running = [pid for pids in pids_in(namespaces).values() for pid in pids]
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return not running

    # Repeat: a process may fork between the scan and the kill.
    if not wait_for(kill_all, KILL_WAIT, interval=0.01):
        raise NetnsError(f"netns: processes in {namespaces} survive SIGKILL: see `ip netns pids`")


def pids_in(namespaces: Iterable[str]) -> dict[str, list[int]]:
    """The live processes of each namespace (what ``ip netns pids`` prints, in one /proc scan)."""
    inodes: dict[tuple[int, int], str] = {}
    for netns in namespaces:
        with contextlib.suppress(OSError):
            pinned = os.stat(NETNS_DIR / netns)
            inodes[(pinned.st_dev, pinned.st_ino)] = netns
    found: dict[str, list[int]] = {}
    if not inodes:
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:  # gone, or a zombie (its namespaces are already released)
            info = os.stat(f"/proc/{entry.name}/ns/net")
        except OSError:
            continue
        if (owner := inodes.get((info.st_dev, info.st_ino))) is not None:
            found.setdefault(owner, []).append(int(entry.name))
    return found


def reap(procs: list[subprocess.Popen[Any]]) -> None:
    """Collect killed children and close their pipes (no zombies, no ResourceWarning)."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(KILL_WAIT)
        streams: list[IO[Any] | None] = [proc.stdin, proc.stdout, proc.stderr]
        for stream in streams:
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
