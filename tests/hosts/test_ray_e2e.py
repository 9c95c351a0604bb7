"""``--ray`` against a real Ray cluster: Ray nodes in network namespaces (``ray_cluster.py``).

``holdemd train``: ``ray start --head`` runs on host ``head`` and ``ray start --address`` on
``n1`` and ``n2``; the head trains Leduc with ``--listen tcp://0.0.0.0:PORT --ray HEAD:6379``.
What it must show: a node placed on each of the two other Ray nodes (none on the head's own),
joined under its name; a killed ``holdemd node`` and a killed actor each placed again; a Ray
node started on ``n3`` during the run gets a node that joins, and when it leaves the cluster
nothing takes its place; at the end no node, actor or placement group left. The figures the
README quotes are printed (run with ``-s``): Ray's memory per host, the time from ``ray
start`` to a node placed, from a kill to the node back, and from a Ray node joining to its
node training.

``holdemd serve --ray``: each run the daemon starts (two, one after the other) places a node on
``n1``, and SIGTERM still stops the daemon with a final snapshot (``ray.init`` would make it
exit the process) and removes it all.

Slow (``-m slow``, root, ``pip install -e '.[ray,test]'``): about three minutes (Ray drains a
stopped Ray node for up to 30 s before it leaves).
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

from holdemd.hosts.keys import init_keys
from tests.hosts.netns import Hosts, wait_for
from tests.hosts.ray_cluster import (
    RayCluster,
    command_line,
    host_at,
    processes,
    pss_mib,
    short_name,
    status,
    synced,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(600),
]

ROOT = Path(__file__).resolve().parents[2]
PORT = 5555
NODES = ("n1", "n2")
LEDUC = ("--config", str(ROOT / "configs" / "leduc.yaml"))


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


def test_ray_places_a_node_on_every_other_ray_node_replaces_killed_ones_and_cleans_up(
    make_hosts: Callable[..., Hosts], base: Path
) -> None:
    hosts = make_hosts(["head", *NODES, "n3"], private_tmp=True)
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
                short_name(command_line(pid)): round(pss_mib([pid]), 1)
                for pid in processes(hosts, host, r"^(?!\S+ \S+/ray start)")
            }
            for host in ("head", "n1")
        }

        keys = base / "keys"
        init_keys(keys, ["ray-1", "ray-2", "ray-3"])  # one to spare, for a node that joins
        run_dir = base / "run"
        head_log = base / "head.log"
        with open(head_log, "ab") as out:
            head = hosts.spawn(
                "head",
                [
                    *(sys.executable, "-m", "holdemd.cli", "train", *LEDUC),
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

        # One node on each other Ray node, named ray-1, ray-2; none on the head's.
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

        # A Ray node that joins the cluster during the run gets a node, named ray-3.
        n3 = hosts.address("n3")
        cluster.start("n3")
        wait_for("n3 in the cluster", lambda: cluster.nodes_up() == 4)
        measured["ray_start_to_node_up_s"] = round(time.monotonic() - cluster.started_at["n3"], 1)
        wait_for(
            "n3's node training",
            lambda: (
                host_at(run_dir, n3).get("state") == "running"
                and host_at(run_dir, n3).get("iterations", 0) > 0
            ),
            timeout=240,
        )
        measured["ray_start_to_joined_node_training_s"] = round(
            time.monotonic() - cluster.started_at["n3"], 1
        )
        assert host_at(run_dir, n3)["name"] == "ray-3"
        assert re.search(
            rf"ray: the Ray node {re.escape(n3)} \(\w{{8}}, 1 CPU\) joined the cluster: "
            r"placing ray-3 there",
            head_log.read_text(),
        )
        assert len(processes(hosts, "n3", r"holdemd\.cli node")) == 1
        assert cluster.query()["groups"] == ["CREATED"] * 3

        # ... and when it leaves, its node goes with it and none is placed in its stead.
        left = time.monotonic()
        cluster.stop("n3")
        wait_for(
            "ray-3's end seen",
            lambda: re.search(
                r"ray: ray-3 (lost its Ray actor|\(holdemd node)", head_log.read_text()
            ),
        )
        measured["ray_node_stopped_to_node_end_seen_s"] = round(time.monotonic() - left, 1)
        wait_for(
            "n3 gone",
            lambda: re.search(
                rf"ray: ray-3's Ray node {re.escape(n3)} \(\w{{8}}\) left the cluster",
                head_log.read_text(),
            ),
        )
        measured["ray_node_stopped_to_seen_left_s"] = round(time.monotonic() - left, 1)
        wait_for("ray-3 let go", lambda: host_at(run_dir, n3).get("state") in ("lost", "left"))
        assert cluster.query()["groups"] == ["CREATED", "CREATED", "REMOVED"]
        assert head_log.read_text().count("ray: ray-3 placed on") == 1
        for node in NODES:  # still one node each: nothing came to take ray-3's place
            assert len(processes(hosts, node, r"holdemd\.cli node")) == 1, node
            assert len(processes(hosts, node, r"^ray::NodeProcess")) == 1, node

        # The end: SIGTERM stops the run with a final snapshot; nothing of it is left.
        head.send_signal(signal.SIGTERM)
        assert head.wait(timeout=120) == 0, head_log.read_text()[-3000:]
        text = head_log.read_text()
        assert "ray: 2 node actor(s) and 2 placement group(s) removed" in text
        final = status(run_dir)
        assert final["state"] == "finished"
        assert {h["name"]: h["state"] for h in final["hosts"] if h["name"] != "ray-3"} == {
            "ray-1": "left",
            "ray-2": "left",
        }
        assert all(h["iterations"] > 0 for h in final["hosts"])
        for host in ("head", *NODES, "n3"):
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


def test_the_daemons_run_places_nodes_and_sigterm_still_stops_it_with_a_final_snapshot(
    make_hosts: Callable[..., Hosts], base: Path
) -> None:
    hosts = make_hosts(["head", "n1"], private_tmp=True)
    cluster = RayCluster(hosts, base)
    daemon: subprocess.Popen[Any] | None = None
    try:
        cluster.start("head")
        wait_for("the Ray head", lambda: cluster.nodes_up() == 1)
        cluster.start("n1")
        wait_for("two Ray nodes", lambda: cluster.nodes_up() == 2)
        keys, state, runtime = base / "keys", base / "state", base / "rt"
        init_keys(keys, ["ray-1"])
        with open(base / "daemon.out", "ab") as out:
            daemon = hosts.spawn(
                "head",
                [
                    *(sys.executable, "-m", "holdemd.cli", "serve"),
                    *("--state-dir", str(state), "--runtime-dir", str(runtime)),
                    *("--listen", f"tcp://0.0.0.0:{PORT}", "--keys", str(keys)),
                    *("--ray", cluster.gcs),
                ],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=cluster.env,
            )

        def ctl(*args: str) -> subprocess.CompletedProcess[str]:
            # The control socket is a file under base: reachable from here, no network.
            return subprocess.run(
                [sys.executable, "-m", "holdemctl", "--socket", str(runtime), *args],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=ROOT,
            )

        wait_for("the daemon", lambda: daemon.poll() is not None or ctl("ping").returncode == 0)
        assert daemon.poll() is None, (base / "daemon.out").read_text()[-3000:]
        n1 = hosts.address("n1")

        def start() -> Path:
            done = ctl("--json", "start", LEDUC[1], "--num-workers", "1", "--time-budget", "5m")
            assert done.returncode == 0, done.stdout + done.stderr
            run_dir = Path(json.loads(done.stdout)["run_dir"])
            wait_for(
                "ray-1 training",
                lambda: (
                    host_at(run_dir, n1).get("state") == "running"
                    and host_at(run_dir, n1).get("iterations", 0) > 0
                ),
                timeout=240,
            )
            assert host_at(run_dir, n1)["name"] == "ray-1"
            return run_dir

        # Every run the daemon starts places its nodes: a run stopped by the user, then another
        # in the same daemon process (Ray connected again).
        start()
        assert cluster.query()["groups"] == ["CREATED"]
        assert ctl("stop", "--wait").returncode == 0
        wait_for("its group removed", lambda: cluster.query()["groups"] == ["REMOVED"], 60)
        run_dir = start()
        assert cluster.query()["groups"] == ["CREATED", "REMOVED"]

        daemon.send_signal(signal.SIGTERM)  # the daemon's own shutdown, not Ray's sys.exit
        assert daemon.wait(timeout=120) == 0, (base / "daemon.out").read_text()[-3000:]
        log = (state / "logs" / "daemon.log").read_text()
        assert log.count("ray: 1 node actor(s) and 1 placement group(s) removed") == 2
        assert status(run_dir)["hosts"][0]["state"] == "left"
        assert list((run_dir / "snapshots").iterdir())  # the final snapshot
        for host in ("head", "n1"):
            assert not processes(hosts, host, r"holdemd|NodeProcess"), host
        cluster_state = cluster.query()
        assert cluster_state["groups"] == ["REMOVED", "REMOVED"]
        assert {state for cls, state in cluster_state["actors"] if cls == "NodeProcess"} == {"DEAD"}
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        cluster.stop()
