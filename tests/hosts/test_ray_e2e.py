"""``holdemd train --ray`` against a real Ray cluster: three Ray nodes in network namespaces.

``ray start --head`` runs on host ``head`` and ``ray start --address`` on ``n1`` and ``n2``, each
in its own namespace with its own address, ``/dev/shm`` and ``/tmp`` (``tests/hosts/netns.py``),
so Ray sees three machines, as a user's cluster would be (Ray itself refuses a second ``ray
start`` on one machine's loopback address). The head trains Leduc with ``--listen
tcp://0.0.0.0:PORT --ray HEAD:6379``; what it must show: a node placed on each of the two other
Ray nodes (none on the head's own), joined under its bundle's key name; a killed ``holdemd
node`` and a killed actor each placed again; and at the end no node, actor or placement group
left. The figures the README quotes are printed (run with ``-s``): Ray's memory per host, the
time from ``ray start`` to a node placed, and from a kill to the node back.

Slow (``-m slow``): about a minute and a half. Ray's processes are not stopped with ``ray
stop``, which kills every Ray process of the machine by name: each ``ray start --block`` is
stopped by its pid, and closing the hosts kills whatever is left in their namespaces.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from holdemd.games.cache import ENV_VAR as GAME_CACHE_VAR
from holdemd.hosts.keys import init_keys
from tests.hosts.netns import Hosts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(600),
]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GCS_PORT = 6379
PORT = 5555
NODES = ("n1", "n2")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def base() -> Iterator[Path]:
    """Files every host sees: outside /tmp, which each host has its own of."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed: pip install -e '.[test,ray]'")
    path = Path(tempfile.mkdtemp(prefix="holdemd-ray-", dir="/var/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class RayCluster:
    """One Ray node per host, each a ``ray start --block`` process."""

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
        self.procs: list[subprocess.Popen[Any]] = []
        self.started_at: dict[str, float] = {}

    def start(self, host: str) -> None:
        role = (
            ["--head", f"--port={GCS_PORT}", "--include-dashboard=false"]
            if host == "head"
            else [f"--address={self.gcs}"]
        )
        self.started_at[host] = time.monotonic()
        with open(self.base / f"ray-{host}.log", "ab") as out:
            self.procs.append(
                self.hosts.spawn(
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

    def stop(self) -> None:
        for proc in self.procs:  # `ray start --block` stops the processes it started
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
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
groups = [g["state"] for g in ray.util.placement_group_table().values()]
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


def _short(command: str) -> str:
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
    for host in status(run_dir).get("hosts") or []:
        if host["address"] == address:
            return dict(host)
    return {}


def test_ray_places_a_node_on_every_other_ray_node_replaces_killed_ones_and_cleans_up(
    make_hosts: Callable[..., Hosts], base: Path
) -> None:
    hosts = make_hosts(["head", *NODES], private_tmp=True)
    cluster = RayCluster(hosts, base)
    measured: dict[str, Any] = {}
    head: subprocess.Popen[Any] | None = None
    try:
        cluster.start("head")
        wait_for("the Ray head", lambda: cluster.nodes_up() == 1)
        for node in NODES:
            cluster.start(node)
        wait_for("three Ray nodes", lambda: cluster.nodes_up() == 3)
        ray_up = time.monotonic()
        measured["ray_start_to_3_nodes_s"] = round(ray_up - cluster.started_at["n1"], 1)
        measured["ray_pss_mib"] = {  # the `ray start --block` process aside: a user's exits
            host: round(pss_mib(processes(hosts, host, r"^(?!\S+ \S+/ray start)")), 1)
            for host in ("head", *NODES)
        }
        measured["ray_pss_mib_by_process"] = {
            host: {
                _short(command_line(pid)): round(pss_mib([pid]), 1)
                for pid in processes(hosts, host, r"^(?!\S+ \S+/ray start)")
            }
            for host in ("head", "n1")
        }

        keys = base / "keys"
        init_keys(keys, ["ray-1", "ray-2"])
        run_dir = base / "run"
        head_log = base / "head.log"
        with open(head_log, "ab") as out:
            head = hosts.spawn(
                "head",
                [
                    sys.executable,
                    *("-m", "holdemd.cli", "train"),
                    *("--config", str(ROOT / "configs" / "leduc.yaml")),
                    *("--iterations", "0", "--time-budget", "5m"),
                    *("--num-workers", "1", "--logdir", str(run_dir)),
                    *("--listen", f"tcp://0.0.0.0:{PORT}", "--keys", str(keys)),
                    *("--ray", cluster.gcs),
                ],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=cluster.env,
            )
        started = time.monotonic()

        # One node on each other Ray node, named by its bundle; none on the head's.
        wait_for(
            "ray-1 and ray-2 in sync",
            lambda: synced(head_log, "ray-1") and synced(head_log, "ray-2"),
            timeout=240,
        )
        measured["head_start_to_nodes_synced_s"] = round(time.monotonic() - started, 1)
        addresses = [hosts.address(node) for node in NODES]
        wait_for(
            "a node from each running",
            lambda: all(host_at(run_dir, a).get("state") == "running" for a in addresses),
            timeout=240,
        )
        measured["actor_pss_mib"] = round(pss_mib(processes(hosts, "n1", r"^ray::NodeProcess")), 1)
        joined = status(run_dir)["hosts"]
        assert sorted(h["name"] for h in joined) == ["ray-1", "ray-2"]
        assert sorted(h["address"] for h in joined) == sorted(addresses)
        assert not processes(hosts, "head", r"holdemd\.cli node")
        text = head_log.read_text()
        assert f"they connect to tcp://{hosts.address('head')}:{PORT}" in text

        # A killed holdemd node: the head sees it end and places it again.
        n1 = hosts.address("n1")
        name = host_at(run_dir, n1)["name"]
        victim = processes(hosts, "n1", r"holdemd\.cli node")
        assert len(victim) == 1
        killed = time.monotonic()
        os.kill(victim[0], signal.SIGKILL)
        wait_for("the kill seen", lambda: f"ray: {name} (holdemd node" in head_log.read_text())
        measured["node_killed_to_seen_s"] = round(time.monotonic() - killed, 1)
        wait_for(f"{name} back", lambda: synced(head_log, name) == 2)
        measured["node_killed_to_synced_again_s"] = round(time.monotonic() - killed, 1)
        wait_for(
            "n1's node back",
            lambda: (
                host_at(run_dir, n1).get("sessions") == 2
                and host_at(run_dir, n1).get("state") == "running"
            ),
        )
        assert re.search(
            rf"ray: {name} \(holdemd node on {re.escape(n1)}\) killed by SIGKILL.*; "
            r"placing it again in 1 s",
            head_log.read_text(),
        )

        # A killed actor (as when Ray loses the process): its node goes with it, and a new
        # actor is placed.
        n2 = hosts.address("n2")
        name = host_at(run_dir, n2)["name"]
        actor = processes(hosts, "n2", r"^ray::NodeProcess")
        node_before = processes(hosts, "n2", r"holdemd\.cli node")
        assert len(actor) == 1 and len(node_before) == 1
        killed = time.monotonic()
        os.kill(actor[0], signal.SIGKILL)
        wait_for("the loss seen", lambda: f"ray: {name} lost its Ray actor" in head_log.read_text())
        measured["actor_killed_to_seen_s"] = round(time.monotonic() - killed, 1)
        wait_for(f"{name} back", lambda: synced(head_log, name) == 2)
        measured["actor_killed_to_synced_again_s"] = round(time.monotonic() - killed, 1)
        wait_for(
            "n2's node back",
            lambda: (
                host_at(run_dir, n2).get("sessions") == 2
                and host_at(run_dir, n2).get("state") == "running"
            ),
        )
        assert node_before[0] not in hosts.pids("n2")  # the old node went with its actor

        # The end: SIGTERM stops the run with a final snapshot; nothing of it is left.
        assert cluster.query()["groups"] == ["CREATED"]
        head.send_signal(signal.SIGTERM)
        assert head.wait(timeout=120) == 0, head_log.read_text()[-3000:]
        text = head_log.read_text()
        assert "ray: 2 node actor(s) and the placement group removed" in text
        final = status(run_dir)
        assert final["state"] == "finished"
        assert {h["state"] for h in final["hosts"]} == {"left"}
        assert all(h["iterations"] > 0 for h in final["hosts"])
        for host in ("head", *NODES):
            assert not processes(hosts, host, r"holdemd|NodeProcess"), host
        cluster_state = cluster.query()
        assert set(cluster_state["groups"]) == {"REMOVED"}
        assert {state for cls, state in cluster_state["actors"] if cls == "NodeProcess"} == {"DEAD"}
        print(f"\nmeasured: {json.dumps(measured)}")
    finally:
        if head is not None and head.poll() is None:
            head.kill()
            head.wait()
        cluster.stop()
