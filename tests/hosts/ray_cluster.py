"""A real Ray cluster on ``tests/hosts/netns.py``'s hosts, and what ``test_ray_e2e.py`` reads of
it and of a head's run.

One Ray node per host, each a ``ray start --block`` process on its own address, ``/dev/shm``
and ``/tmp``, so Ray sees separate machines as a user's cluster would be (Ray itself refuses a
second ``ray start`` on one machine's loopback address). Ray's processes are not stopped with
``ray stop``, which kills every Ray process of the machine by name: each ``ray start --block``
is stopped by its pid (it stops what it started), and closing the hosts kills whatever is left
in their namespaces.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from holdemd.games.cache import ENV_VAR as GAME_CACHE_VAR
from tests.hosts.netns import Hosts

BIN = Path(sys.executable).parent
GCS_PORT = 6379


class RayCluster:
    """One Ray node per host, each a ``ray start --block`` process; ``head`` is the Ray head."""

    def __init__(self, hosts: Hosts, base: Path) -> None:
        self.hosts = hosts
        self.base = base
        self.gcs = f"{hosts.address('head')}:{GCS_PORT}"
        self.env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "RAY_USAGE_STATS_ENABLED": "0",
            GAME_CACHE_VAR: str(base / "game-cache"),  # the session's is under /tmp
        }
        self.procs: dict[str, subprocess.Popen[Any]] = {}
        self.started_at: dict[str, float] = {}

    def start(self, host: str) -> None:
        role = (
            ["--head", f"--port={GCS_PORT}", "--include-dashboard=false"]
            if host == "head"
            else [f"--address={self.gcs}"]
        )
        self.started_at[host] = time.monotonic()
        with open(self.base / f"ray-{host}.log", "ab") as out:
            self.procs[host] = self.hosts.spawn(
                host,
                [
                    str(BIN / "ray"),
                    "start",
                    "--block",
                    "--num-cpus=1",
                    f"--node-ip-address={self.hosts.address(host)}",
                    "--disable-usage-stats",
                    *role,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    def nodes_up(self) -> int:
        done = self.hosts.run(
            "head", [str(BIN / "ray"), "status", f"--address={self.gcs}"], env=self.env
        )
        return done.stdout.count(" node_") if done.returncode == 0 else 0

    def query(self) -> dict[str, Any]:
        """The cluster's placement groups and actors, as a driver on the head host sees them."""
        done = self.hosts.run("head", [sys.executable, "-c", QUERY, self.gcs], env=self.env)
        assert done.returncode == 0, done.stderr[-2000:]
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def stop(self, *hosts: str) -> None:
        """Stop the Ray nodes of ``hosts`` (all by default)."""
        procs = [self.procs[host] for host in hosts] if hosts else list(self.procs.values())
        for proc in procs:  # `ray start --block` stops the processes it started
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


QUERY = """
import json, logging, sys
import ray
from ray._private import state
ray.init(address=sys.argv[1], log_to_driver=False, logging_level=logging.ERROR)
groups = sorted(g["state"] for g in ray.util.placement_group_table().values())
actors = [(a["ActorClassName"], a["State"]) for a in state.actors().values()]
print(json.dumps({"groups": groups, "actors": actors}))
"""


def pss_mib(pids: list[int]) -> float:
    """Proportional set size of these processes (shared pages split among their users)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


def short_name(command: str) -> str:
    """A Ray process's name: its title (ray::...) or its program's or module's file name."""
    words = command.split()
    if not words:
        return "?"
    if words[0].startswith("ray::"):
        return words[0]
    if not Path(words[0]).name.startswith("python"):
        return Path(words[0]).name  # gcs_server, raylet
    if "-m" in words:
        return words[words.index("-m") + 1]
    return Path(next((w for w in words[1:] if w.endswith(".py")), words[0])).name


def processes(hosts: Hosts, host: str, pattern: str) -> list[int]:
    return [pid for pid in hosts.pids(host) if re.search(pattern, command_line(pid))]


def synced(head_log: Path, name: str) -> int:
    """How many times host ``name`` has fetched the whole table (joined, or joined again)."""
    return head_log.read_text().count(f"host {name} has the whole table")


def status(run_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((run_dir / "status.json").read_text()))
    except (OSError, ValueError):
        return {}


def host_at(run_dir: Path, address: str) -> dict[str, Any]:
    """The head's status.json ``hosts`` entry of the host at ``address`` (its latest)."""
    for host in reversed(status(run_dir).get("hosts") or []):
        if host["address"] == address:
            return dict(host)
    return {}
