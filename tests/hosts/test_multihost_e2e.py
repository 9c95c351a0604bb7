"""One run over three "hosts": Linux network namespaces on a bridge, each with its own /dev/shm.

The head (``holdemd train --listen``) and two nodes (``holdemd node``) run as real processes in
their namespaces (``tests/hosts/netns.py``), so a node can reach the head only over TCP with
CURVE, and cannot map the head's tables by name. What the issue asks of several hosts:
training as well as on one host at equal iterations; a cut link dropped in seconds and the
run going on; the host rejoining when its link is back; a killed head resumed from its
snapshot with the nodes resyncing; an unknown key and a plain client refused.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from holdemd.hosts.keys import init_keys
from tests.hosts.netns import Hosts, wait_for

pytestmark = [
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(300),
]

ROOT = Path(__file__).resolve().parents[2]
PORT = 5555
ITERATIONS = 1_500_000
# Three hosts with one worker each against one host with three workers, at equal iterations.
# A node's workers see the other hosts' work one exchange later than a shared table would
# show it (their batches travel node -> head -> node), about one batch more of delay; measured
# on this machine: 0.010-0.014 against 0.009-0.013 for two workers on one host at 3M. The
# factor leaves room for 9 processes sharing 2 cores, as PARITY_FACTOR does for 2 workers.
PARITY_FACTOR = 2.5
EXPLOITABILITY = re.compile(r"exploitability ([0-9.]+) chips/game")


def holdemd(*args: str) -> list[str]:
    return [sys.executable, "-m", "holdemd.cli", *args]


class Cluster:
    """The processes of a test: a head and nodes, each logging to a file."""

    def __init__(self, hosts: Hosts, tmp: Path) -> None:
        self.hosts = hosts
        self.tmp = tmp
        self.keys = tmp / "keys"
        init_keys(self.keys, ["n1", "n2"])
        self.run_dir = tmp / "run"
        self.url = f"tcp://{hosts.address('head')}:{PORT}"
        self.procs: dict[str, subprocess.Popen[Any]] = {}

    def start(self, host: str, argv: list[str], log_name: str | None = None) -> Path:
        log = self.tmp / f"{log_name or host}.log"
        with open(log, "ab") as out:
            self.procs[host] = self.hosts.spawn(
                host, argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        return log

    def head(self, *extra: str, log_name: str = "head") -> Path:
        listen = f"tcp://{self.hosts.address('head')}:{PORT}"
        return self.start(
            "head",
            holdemd(
                "train",
                "--listen",
                listen,
                "--keys",
                str(self.keys),
                "--logdir",
                str(self.run_dir),
                "--num-workers",
                "1",
                *extra,
            ),
            log_name,
        )

    def node(self, name: str, *extra: str) -> Path:
        return self.start(
            name,
            holdemd(
                "node",
                "--connect",
                self.url,
                "--keys",
                str(self.keys),
                "--name",
                name,
                "--num-workers",
                "1",
                *extra,
            ),
        )

    def status(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.run_dir / "status.json").read_text()))
        except (OSError, ValueError):
            return {}

    def in_state(self, name: str, state: str) -> Callable[[], bool]:
        return lambda: self.host(name).get("state") == state

    def host(self, name: str) -> dict[str, Any]:
        for host in self.status().get("hosts") or []:
            if host["name"] == name:
                return dict(host)
        return {}


def exploitability(output: str) -> float:
    found = EXPLOITABILITY.findall(output)
    assert found, output[-2000:]
    return float(found[-1])


def test_three_hosts_train_leduc_as_well_as_one_host(
    make_hosts: Callable[..., Hosts], tmp_path: Path
) -> None:
    hosts = make_hosts(["head", "n1", "n2"])
    cluster = Cluster(hosts, tmp_path)
    config = str(ROOT / "configs" / "leduc.yaml")
    head_log = cluster.head("--config", config, "--iterations", str(ITERATIONS))
    logs = [cluster.node(name, "--once") for name in ("n1", "n2")]
    assert cluster.procs["head"].wait(timeout=240) == 0, head_log.read_text()[-3000:]
    for name, log in zip(("n1", "n2"), logs, strict=True):
        assert cluster.procs[name].wait(timeout=60) == 0, log.read_text()[-3000:]
    output = head_log.read_text()
    status = cluster.status()
    assert status["iterations"] >= ITERATIONS
    for name in ("n1", "n2"):
        host = cluster.host(name)
        assert host["state"] == "left" and host["iterations"] > 0, host
        assert host["address"] == hosts.address(name)
    # Shared memory stayed on each host: a node's tables are its own segments.
    assert not list(hosts.shm_dir("n1").glob("holdemd-*"))  # removed when the node ended
    multi = exploitability(output)

    single = subprocess.run(
        holdemd(
            "train",
            "--config",
            config,
            "--iterations",
            str(ITERATIONS),
            "--num-workers",
            "3",
            "--logdir",
            str(tmp_path / "single"),
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    reference = exploitability(single.stdout + single.stderr)
    assert multi <= PARITY_FACTOR * reference, (multi, reference)


def test_a_cut_host_is_dropped_rejoins_and_a_restarted_head_resumes(
    make_hosts: Callable[..., Hosts], tmp_path: Path
) -> None:
    hosts = make_hosts(["head", "n1", "n2"])
    cluster = Cluster(hosts, tmp_path)
    config = str(ROOT / "configs" / "leduc.yaml")
    budget = ("--config", config, "--iterations", "0", "--time-budget", "90s")
    head_log = cluster.head(*budget, "--snapshot-interval", "3s")
    n1_log = cluster.node("n1")
    cluster.node("n2")
    for name in ("n1", "n2"):
        wait_for(f"{name} running", cluster.in_state(name, "running"))

    # Nothing unauthenticated gets in: a stranger's key, and a plain (NULL) ZeroMQ client.
    probe = hosts.run("n2", [sys.executable, "-c", PROBE, cluster.url, str(cluster.keys)])
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["stranger:no-answer", "plain:no-answer"]
    text = wait_for("both refusals logged", lambda: _refusals(head_log.read_text()), 60)
    assert "is not a host key" in text

    # A cut link: the head drops the host in seconds and trains on.
    hosts.link_down("n1")
    lost = wait_for(
        "n1 dropped", lambda: cluster.host("n1").get("state") == "lost" and cluster.host("n1")
    )
    silence = re.search(r"no message for ([0-9.]+) s", lost["reason"])
    assert silence is not None and float(silence.group(1)) <= 10.0
    before = cluster.status()["iterations"]
    wait_for("training without n1", lambda: cluster.status()["iterations"] > before)
    hosts.link_up("n1")
    wait_for(
        "n1 back",
        lambda: (
            cluster.host("n1").get("state") == "running" and cluster.host("n1")["sessions"] == 2
        ),
    )

    # The head dies; restarted (as systemd would), it resumes and the nodes resync.
    snapshots = cluster.run_dir / "snapshots"
    wait_for("a snapshot", lambda: any(snapshots.glob("it-*")))
    cluster.procs["head"].send_signal(signal.SIGKILL)
    cluster.procs["head"].wait(timeout=30)
    old_run = cluster.status()["run_id"]
    resumed_log = cluster.head("--resume", str(cluster.run_dir), log_name="head-resumed")
    wait_for("a new head", lambda: cluster.status().get("run_id") not in (None, old_run))
    for name in ("n1", "n2"):
        wait_for(f"{name} resynced", cluster.in_state(name, "running"), timeout=60)
    assert "resuming from" in resumed_log.read_text()
    cluster.procs["head"].send_signal(signal.SIGTERM)  # the run stops with a final snapshot
    assert cluster.procs["head"].wait(timeout=120) == 0, resumed_log.read_text()[-3000:]
    assert "lost the head" in n1_log.read_text()
    final = cluster.status()
    assert final["state"] == "finished"


def _refusals(text: str) -> str:
    """The head's log once it holds both refusals: the stranger's key, and the plain client
    (a mechanism mismatch; under load libzmq may report only a handshake that ended)."""
    stranger = "is not a host key" in text
    plain = "without CURVE" in text or "during its handshake" in text
    return text if stranger and plain else ""


# Run on a host: a client with a key the head does not know (pinned to the right head key),
# then a client without CURVE; each sends a join and reports whether anything came back.
PROBE = """
import sys
from pathlib import Path
import zmq
from holdemd.hosts.keys import load_node_keys
from holdemd.protocol.host_codec import encode
from holdemd.protocol.hosts import Join

url, keys = sys.argv[1], Path(sys.argv[2])
head_public = load_node_keys(keys, "n1").head_public
join = encode(Join(name="n1", version="0", code="0", num_workers=1))
context = zmq.Context()
for kind in ("stranger", "plain"):
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    if kind == "stranger":
        public, secret = zmq.curve_keypair()
        socket.curve_secretkey, socket.curve_publickey = secret, public
        socket.curve_serverkey = head_public
    socket.connect(url)
    socket.send(join)
    answered = socket.poll(4000)
    print(f"{kind}:{'answer' if answered else 'no-answer'}")
    socket.close()
context.term()
"""
