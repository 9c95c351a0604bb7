"""The network-namespace harness: hosts reach each other over the bridge and only there, keep
their shared memory to themselves, lose and regain their link, get shaped, and leave nothing
behind - not even when the test raises or the process that built them is killed.

Real namespaces, processes and sockets; every check runs a real program on a host (the venv's
python by absolute path). Traffic goes only to loopback and to the namespaces built here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import holdemd
from holdemd.protocol.worker import TableHandle
from holdemd.training.shared_tables import SharedTables
from tests.daemon.processes import alive, command_line, proc_stat, signal_process, wait_for
from tests.hosts import netns
from tests.hosts.netns import Hosts
from tests.hosts.netns_cleanup import NETNS_DIR, STATE_ROOT, remove_stale, stale_lock
from tests.hosts.netns_tools import NetnsError, rate_bits

ROOT = Path(__file__).resolve().parents[2]
PORT = 7700  # every Hosts is a network of its own: no port can clash with another test's
PY = sys.executable

pytestmark = pytest.mark.timeout(60)

# Answers every connection with its first argument: the name of the host it runs on.
ECHO_SERVER = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[2])))
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    with conn:
        conn.sendall(sys.argv[1].encode())
"""
# Prints what the server answered, or the error's name and exits 1.
CLIENT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])) as c:
        print(c.recv(100).decode())
except OSError as error:
    print(type(error).__name__)
    sys.exit(1)
"""
LOOPBACK = """
import socket
with socket.create_server(("127.0.0.1", 0)) as server:
    with socket.create_connection(server.getsockname(), timeout=5):
        conn, _ = server.accept()
        conn.close()
print("loopback ok")
"""
# Creates a run's tables in shared memory exactly as the supervisor does, prints the handles
# workers attach by, and holds them until stdin closes.
TABLES_OWNER = """
import json, sys
import numpy as np
from holdemd.solver.tables import Tables
from holdemd.training.shared_tables import SharedTables
tables = Tables(regret=np.full((3, 2), 7.0), strategy_sum=np.zeros((3, 2)))
shared = SharedTables.create(tables, run_tag="netns-test")
print(json.dumps({k: [h.shm_name, h.dtype, list(h.shape)] for k, h in shared.handles.items()}), flush=True)
sys.stdin.read()
shared.close()
"""
# Attaches them as a worker does: prints the regret sum, or "absent".
TABLES_READER = """
import json, sys
from holdemd.protocol.worker import TableHandle
from holdemd.training.shared_tables import SharedTables
handles = {k: TableHandle(v[0], v[1], tuple(v[2])) for k, v in json.loads(sys.argv[1]).items()}
try:
    shared = SharedTables.attach(handles)
except FileNotFoundError:
    print("absent")
    sys.exit(3)
print(float(shared.tables.regret.sum()))
shared.close()
"""


def _echo(hosts: Hosts, host: str) -> subprocess.Popen[str]:
    server = hosts.spawn(
        host, [PY, "-c", ECHO_SERVER, host, str(PORT)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdout.readline() == "ready\n"
    return server


def _connect(hosts: Hosts, client: str, server: str, timeout: float = 5.0) -> str:
    argv = [PY, "-c", CLIENT, hosts.address(server), str(PORT), str(timeout)]
    return hosts.run(client, argv).stdout.strip()


def _ours(tag: str) -> list[str]:
    """What of run ``tag`` exists on the machine: namespaces, the state directory, and any
    interface of the machine's own network that leads into our namespaces."""
    found = [p.name for p in NETNS_DIR.glob(f"{tag}*")] if NETNS_DIR.is_dir() else []
    found += [p.name for p in STATE_ROOT.glob(f"{tag}*")]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return found + [line for line in links.splitlines() if tag in line]


def test_hosts_reach_each_other_across_the_bridge_and_their_own_loopback(make_hosts):
    hosts = make_hosts(["head", "n1", "n2"])
    assert [hosts.address(h) for h in hosts.names] == ["10.213.7.1", "10.213.7.2", "10.213.7.3"]
    _echo(hosts, "head")
    _echo(hosts, "n2")
    assert _connect(hosts, "n1", "head") == "head"
    assert _connect(hosts, "n2", "head") == "head"
    assert _connect(hosts, "n1", "n2") == "n2"
    for host in hosts.names:
        assert hosts.run(host, [PY, "-c", LOOPBACK], check=True).stdout == "loopback ok\n"


def test_a_process_on_a_host_runs_the_venvs_python_and_imports_holdemd(make_hosts):
    hosts = make_hosts(["n1"])
    done = hosts.run(
        "n1", [PY, "-c", "import holdemd, sys; print(holdemd.__file__); print(sys.prefix)"]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [holdemd.__file__, sys.prefix]
    assert Path(holdemd.__file__).is_relative_to(ROOT)


def test_shared_memory_stays_on_its_host(make_hosts, tmp_path):
    hosts = make_hosts(["head", "n1", "n2"])
    marker = Path("/dev/shm") / f"netns-test-{os.getpid()}"  # the machine's own /dev/shm
    marker.touch()
    try:
        owner = hosts.spawn(
            "n1", [PY, "-c", TABLES_OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert owner.stdout is not None and owner.stdin is not None
        handles = owner.stdout.readline().strip()
        assert handles, "the owner printed no handles"
        names = sorted(name for name, *_ in json.loads(handles).values())

        def read(host: str) -> str:
            return hosts.run(host, [PY, "-c", TABLES_READER, handles]).stdout.strip()

        assert read("n1") == "42.0"  # the processes of one host share its /dev/shm
        assert read("n2") == "absent"
        assert read("head") == "absent"
        machine = {k: TableHandle(v[0], v[1], tuple(v[2])) for k, v in json.loads(handles).items()}
        with pytest.raises(FileNotFoundError):
            SharedTables.attach(machine)
        assert sorted(p.name for p in hosts.shm_dir("n1").iterdir()) == names
        for host in ("head", "n1", "n2"):
            assert marker.name not in hosts.run(host, ["ls", "-a", "/dev/shm"]).stdout
        owner.stdin.close()
        assert owner.wait(10) == 0
        assert list(hosts.shm_dir("n1").iterdir()) == []
    finally:
        marker.unlink()


def test_private_tmp_keeps_each_hosts_tmp_apart(make_hosts):
    hosts = make_hosts(["n1", "n2"], private_tmp=True)
    name = f"netns-test-{os.getpid()}"
    hosts.run("n1", ["touch", f"/tmp/{name}"], check=True)
    assert hosts.run("n1", ["ls", "/tmp"]).stdout.split() == [name]
    assert hosts.run("n2", ["ls", "/tmp"]).stdout.split() == []
    assert not (Path("/tmp") / name).exists()


def test_a_cut_link_times_out_and_a_restored_one_works_at_once(make_hosts):
    hosts = make_hosts(["head", "n1", "n2"])
    _echo(hosts, "head")
    assert _connect(hosts, "n1", "head") == "head"
    hosts.link_down("n1")
    # The host's side stays up without carrier, as with a pulled cable: the SYN vanishes.
    assert "NO-CARRIER" in hosts.run("n1", ["ip", "link", "show", "eth0"]).stdout
    assert _connect(hosts, "n1", "head", timeout=1.0) == "TimeoutError"
    assert _connect(hosts, "n2", "head") == "head"  # only n1 is cut
    hosts.link_up("n1")
    assert _connect(hosts, "n1", "head") == "head"


def test_shape_puts_a_token_bucket_on_both_directions_of_the_link(make_hosts):
    hosts = make_hosts(["head", "n1"])
    hosts.shape("n1", "1gbit")
    for shown in hosts.qdiscs("n1"):
        assert "qdisc tbf" in shown and "rate 1Gbit" in shown and "burst 125000b" in shown
    assert not any("tbf" in shown for shown in hosts.qdiscs("head"))
    hosts.shape("n1", "100mbit", burst=20_000)  # replaces the first
    for shown in hosts.qdiscs("n1"):
        assert "rate 100Mbit" in shown and "burst 20000b" in shown
    _echo(hosts, "head")
    assert _connect(hosts, "n1", "head") == "head"
    hosts.unshape("n1")
    assert not any("tbf" in shown for shown in hosts.qdiscs("n1"))
    hosts.unshape("n1")  # nothing left to remove is fine


def test_rates_are_read_in_tc_bit_units():
    assert rate_bits("1gbit") == 10**9
    assert rate_bits("2.5Mbit") == 2_500_000
    assert rate_bits("64kbit") == 64_000
    with pytest.raises(NetnsError, match=r"rate '1gbps': use a number and bit"):
        rate_bits("1gbps")  # tc reads "bps" as bytes per second: refused, not misread


@pytest.mark.parametrize("body_raises", [False, True])
def test_everything_is_removed_at_exit(netns_available, body_raises):
    hosts = Hosts(["head", "n1"])
    with pytest.raises(RuntimeError) if body_raises else contextlib.nullcontext(), hosts:
        stubborn = hosts.spawn("n1", ["sh", "-c", "trap '' TERM; sleep 600"])
        # A grandchild in a session of its own: outside the spawned process's group.
        runaway = hosts.spawn(
            "n1", ["sh", "-c", "setsid sleep 600 & echo $!"], stdout=subprocess.PIPE
        )
        assert runaway.stdout is not None
        grandchild = int(runaway.stdout.readline())
        assert runaway.wait(5) == 0 and alive(grandchild)
        assert {stubborn.pid, grandchild} <= set(hosts.pids("n1"))
        assert len(_ours(hosts.tag)) == 4  # switch and 2 hosts' namespaces, the directory
        if body_raises:
            raise RuntimeError("the test body failed")
    assert _ours(hosts.tag) == []
    assert stubborn.returncode == -signal.SIGKILL
    assert wait_for(lambda: not alive(grandchild), 5.0)
    hosts.close()  # again: nothing to do


def test_leftovers_of_a_dead_run_are_removed(netns_available):
    builder = """
import subprocess, sys
from tests.hosts.netns import Hosts
hosts = Hosts(["a", "b"]).start()
sleeper = hosts.spawn("a", ["sleep", "600"], stdout=subprocess.DEVNULL)
print(hosts.tag, sleeper.pid, flush=True)
sys.stdin.read()
"""
    child = subprocess.Popen(
        [PY, "-c", builder], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    tag, sleeper, start = "", 0, 0
    try:
        assert child.stdout is not None
        tag, pid = child.stdout.readline().split()
        sleeper = int(pid)
        start = proc_stat(sleeper)[2]  # type: ignore[index]
        # Under the lock no other test process can remove the leftovers before we see them.
        with stale_lock():
            child.kill()  # no clean-up runs: its namespaces and sleeper stay behind
            child.wait(10)
            assert len(_ours(tag)) == 4 and alive(sleeper, start)
        assert tag in remove_stale()
        assert _ours(tag) == []
        assert wait_for(lambda: not alive(sleeper, start), 5.0)
    finally:
        child.kill()
        child.communicate()
        # Whatever remove_stale left, by other means than its own.
        signal_process(sleeper, start, signal.SIGKILL)
        if tag:
            for netns in NETNS_DIR.glob(f"{tag}*"):
                subprocess.run(["ip", "netns", "del", netns.name], check=False)
            shutil.rmtree(STATE_ROOT / tag, ignore_errors=True)


def test_crash_kills_a_hosts_processes_and_wipes_its_shared_memory(make_hosts):
    hosts = make_hosts(["head", "n1"])
    sleeper = hosts.spawn("n1", ["sleep", "600"])
    head_sleeper = hosts.spawn("head", ["sleep", "600"])
    hosts.run("n1", ["touch", "/dev/shm/holdemd-tables"], check=True)
    # The Popen is the program itself, once the wrapper (ip netns exec, sh) has exec'ed it.
    deadline = time.monotonic() + 30
    while command_line(sleeper.pid) != "sleep 600 " and time.monotonic() < deadline:
        time.sleep(0.05)
    assert command_line(sleeper.pid) == "sleep 600 "
    hosts.crash("n1")
    assert sleeper.returncode == -signal.SIGKILL and hosts.pids("n1") == []
    assert head_sleeper.poll() is None and hosts.pids("head") == [head_sleeper.pid]
    assert list(hosts.shm_dir("n1").iterdir()) == []
    _echo(hosts, "head")  # the host can start again on the same network
    assert _connect(hosts, "n1", "head") == "head"


def test_unknown_hosts_and_bad_names_are_refused_in_one_line(make_hosts):
    with pytest.raises(NetnsError, match=r"host name 'N 1': use \[a-z\]"):
        Hosts(["N 1"])
    with pytest.raises(NetnsError, match="give 1 to 253 distinct names"):
        Hosts(["a", "a"])
    hosts = make_hosts(["head"])
    with pytest.raises(NetnsError, match=r"no host 'n9' \(hosts: head\)"):
        hosts.address("n9")


def test_without_root_the_reason_says_so(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert netns._diagnose() == "network namespaces need root (run the tests as root, as CI does)"
