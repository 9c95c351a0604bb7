"""``holdemd train|serve --ray``, the parts that need no Ray cluster (``ray_plan``, and what
``ray_placement`` and ``ray_slot`` log): the nodes chosen, their names and command line, the
address they connect to, the verdict on a node that ended, the errors a user can meet, the
slots kept in step with the cluster's nodes, and the actor body (``ray_node.NodeProcess``) with
real processes. The placement decisions at each look at the cluster: ``test_ray_plan.py``.

The placement itself, against a real Ray cluster in network namespaces: ``test_ray_e2e.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from holdemd.cli import main
from holdemd.errors import UsageError
from holdemd.hosts import ray_plan
from holdemd.hosts.ray_node import NodeProcess
from holdemd.hosts.ray_placement import RayPlacement
from holdemd.hosts.ray_plan import (
    RayNode,
    connect_address,
    host_name,
    judge_end,
    node_command,
    nodes_to_place,
    require_ray,
)
from holdemd.hosts.ray_slot import RaySlot
from holdemd.hosts.remote import RemoteHost

ROOT = Path(__file__).resolve().parents[2]


def _node(node_id: str, address: str, cpus: float, alive: bool = True) -> dict[str, object]:
    return {
        "NodeID": node_id,
        "NodeManagerAddress": address,
        "Alive": alive,
        "Resources": {"CPU": cpus, "memory": 1e9} if cpus else {"memory": 1e9},
    }


def test_every_other_alive_node_with_a_cpu_is_chosen_largest_first() -> None:
    nodes = [
        _node("head", "10.0.0.1", 8),  # the head's own node: its local workers use it
        _node("small", "10.0.0.2", 2),
        _node("dead", "10.0.0.3", 16, alive=False),
        _node("gpu-less-head", "10.0.0.4", 0),  # a Ray head started with --num-cpus=0
        _node("half", "10.0.0.5", 0.5),
        _node("big", "10.0.0.6", 4.0),
    ]
    assert nodes_to_place(nodes, "head") == [
        RayNode("big", "10.0.0.6", 4),
        RayNode("small", "10.0.0.2", 2),
    ]
    # Through Ray Client the head is on no Ray node: every node gets one.
    assert [n.node_id for n in nodes_to_place(nodes, None)] == ["head", "big", "small"]


def test_nodes_are_named_ray_k_and_run_one_run_with_their_ray_nodes_cpus() -> None:
    assert [host_name(k) for k in (1, 2, 3)] == ["ray-1", "ray-2", "ray-3"]
    argv = node_command("tcp://10.0.0.1:5555", Path("/keys"), "ray-2", 4, python="/py")
    assert argv == [
        "/py",
        *("-m", "holdemd.cli", "node"),
        *("--connect", "tcp://10.0.0.1:5555"),
        *("--keys", "/keys"),
        *("--name", "ray-2"),
        *("--num-workers", "4"),
        "--once",
    ]
    # What the actor runs is a command holdemd node takes.
    parser_check = subprocess.run(
        [sys.executable, "-m", "holdemd.cli", *argv[3:], "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert parser_check.returncode == 0, parser_check.stderr


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("tcp://0.0.0.0:5555", "tcp://10.1.2.3:5555"),
        ("tcp://*:6000", "tcp://10.1.2.3:6000"),
        ("tcp://[::]:5555", "tcp://10.1.2.3:5555"),
        ("tcp://192.168.7.9:5555", "tcp://192.168.7.9:5555"),  # given: the user knows best
        ("tcp://head.example:5555", "tcp://head.example:5555"),
    ],
)
def test_a_wildcard_listen_address_becomes_the_heads_ray_address(
    listen: str, expected: str
) -> None:
    assert connect_address(listen, "10.1.2.3") == expected


def test_an_ipv6_head_address_is_bracketed() -> None:
    assert connect_address("tcp://0.0.0.0:5555", "fd00::1") == "tcp://[fd00::1]:5555"


def test_a_listen_address_without_a_port_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--listen tcp://0\.0\.0\.0: expected tcp://"):
        connect_address("tcp://0.0.0.0", "10.1.2.3")


@pytest.mark.parametrize(
    ("code", "tail", "asked", "why", "final"),
    [
        (0, ["done"], False, "", True),  # --once: the run ended
        (-9, [], True, "", True),  # stopped at the end of the run
        (-9, ["a warning", " "], False, "(holdemd node on 10.0.0.2) killed by SIGKILL", False),
        (137, [], False, "(holdemd node on 10.0.0.2) exited with 137", False),
        (
            2,
            ["holdemd: /k/ray-1.key_secret: missing; copy it"],
            False,
            "(holdemd node on 10.0.0.2) exited with 2: holdemd: /k/ray-1.key_secret: missing; "
            "copy it",
            True,  # a usage error comes back every time: not placed again
        ),
        (1, ["holdemd: the head refused this node"], False, None, True),
        (-99, [], False, "(holdemd node on 10.0.0.2) killed by signal 99", False),
    ],
)
def test_what_ends_a_node_for_good(
    code: int, tail: list[str], asked: bool, why: str | None, final: bool
) -> None:
    got_why, got_final = judge_end(code, tail, asked, "10.0.0.2")
    if why is not None:
        assert got_why == why
    assert got_final == final


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    """`train` and `serve` as heads, each with what it would make in ``tmp_path``."""
    head = ["--listen", "tcp://0.0.0.0:5555", "--keys", str(tmp_path / "k")]
    config, made = str(ROOT / "configs" / "leduc.yaml"), str(tmp_path / "made")
    return {
        "train": ["train", "--config", config, "--logdir", made, *head],
        "serve": ["serve", "--state-dir", made, "--runtime-dir", f"{made}-too", *head],
    }


@pytest.mark.parametrize("command", ["train", "serve"])
def test_without_ray_installed_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.setattr(ray_plan.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError) as error:
        require_ray("auto")
    assert str(error.value) == "--ray auto: Ray is not installed here; pip install 'holdemd[ray]'"
    # At the command line: before anything is built, one line, exit code 2.
    assert main([*_commands(tmp_path)[command], "--ray", "auto"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "holdemd: --ray auto: Ray is not installed here; pip install 'holdemd[ray]'"
    )
    assert not list(tmp_path.glob("made*"))


@pytest.mark.parametrize("command", ["train", "serve"])
def test_a_ray_too_old_to_pin_a_node_to_its_ray_node_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.setattr(ray_plan.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(ray_plan.importlib.metadata, "version", lambda name: "2.49.2")
    assert main([*_commands(tmp_path)[command], "--ray", "10.0.0.1:6379"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "holdemd: --ray 10.0.0.1:6379: Ray 2.49.2 is too old (holdemd needs 2.50 or newer, "
        "here and on the cluster); pip install 'holdemd[ray]'"
    )
    assert not list(tmp_path.glob("made*"))
    monkeypatch.setattr(ray_plan.importlib.metadata, "version", lambda name: "2.60.0rc1")
    require_ray("auto")
    monkeypatch.setattr(ray_plan.importlib.metadata, "version", lambda name: "3.0.dev0")
    require_ray("auto")


@pytest.mark.parametrize("command", ["train", "serve"])
def test_ray_without_listen_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = _commands(tmp_path)[command]
    assert main([*argv[: argv.index("--listen")], "--ray", "auto"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "holdemd: --ray places the nodes of a multi-host run: give --listen tcp://0.0.0.0:PORT "
        "and --keys DIR too"
    )
    assert not list(tmp_path.glob("made*"))


# --- the actor's body, with real processes -----------------------------------------------------


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_node_process_reports_its_exit_code_and_last_lines() -> None:
    node = NodeProcess(_python("print('one'); print('two'); raise SystemExit(3)"))
    assert node.pid > 0
    assert node.wait() == (3, ["one", "two"], False)


def test_stop_interrupts_the_node_and_kills_one_that_ignores_it() -> None:
    polite = NodeProcess(_python("import time; print('up', flush=True); time.sleep(60)"))
    _wait_for_output(polite)
    assert polite.stop(grace=30) == -signal.SIGINT  # KeyboardInterrupt: Python's own SIGINT exit
    assert polite.wait()[2] is True
    stubborn = NodeProcess(
        _python(
            "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            "print('up', flush=True); time.sleep(60)"
        )
    )
    _wait_for_output(stubborn)
    assert stubborn.stop(grace=0.5) == -signal.SIGKILL


def test_a_command_that_cannot_start_fails_the_actor() -> None:
    with pytest.raises(FileNotFoundError):
        NodeProcess(["/nonexistent/holdemd"])


def test_the_node_dies_with_its_actor_process() -> None:
    """The actor's process killed (ray.kill, a lost Ray node): its node gets SIGTERM."""
    actor = subprocess.Popen(
        _python(
            "import sys, time\n"
            "from holdemd.hosts.ray_node import NodeProcess\n"
            "node = NodeProcess([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            "print(node.pid, flush=True)\n"
            "time.sleep(120)\n"
        ),
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    node_pid = 0
    try:
        assert actor.stdout is not None
        node_pid = int(actor.stdout.readline())
        assert _alive(node_pid)
        actor.kill()
        actor.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(node_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(node_pid)
    finally:
        if actor.poll() is None:
            actor.kill()
            actor.wait()
        if actor.stdout is not None:
            actor.stdout.close()
        if node_pid and _alive(node_pid):
            os.kill(node_pid, signal.SIGKILL)


def _wait_for_output(node: NodeProcess) -> None:
    deadline = time.monotonic() + 30
    while not node.tail and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(node.tail) == ["up"]


def _alive(pid: int) -> bool:
    """Running (a zombie, reaped by init later, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# --- what the head logs of its slots, without Ray ----------------------------------------------


def _head(**hosts: RemoteHost) -> Any:
    """What ``RaySlot`` and ``RayPlacement`` read of the run's head: its hosts."""
    return SimpleNamespace(hosts=hosts)


def test_a_placed_node_that_never_joined_is_named_with_the_address_it_tries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The usual mistake: --listen on an address the Ray nodes cannot reach."""
    head = _head(**{"ray-2": RemoteHost(name="ray-2", index=2, joined_at=100.0)})
    connect, keys = "tcp://127.0.0.1:5555", Path("/k")
    stranded = RaySlot(None, RayNode("a", "10.0.0.2", 1), "ray-1", connect, keys, head)
    stranded.where = {"address": "10.0.0.2"}
    joined = RaySlot(None, RayNode("b", "10.0.0.3", 1), "ray-2", connect, keys, head)
    with caplog.at_level("WARNING", logger="holdemd.ray"):
        stranded.warn_unless_joined(placed_at=50.0)
        joined.warn_unless_joined(placed_at=50.0)  # joined since
        joined.warn_unless_joined(placed_at=150.0)  # an old session
    assert [r.getMessage() for r in caplog.records] == [
        f"ray: {name} (on {where}) has not joined 30 s after it was placed: can it reach "
        "tcp://127.0.0.1:5555? (give --listen an address the Ray nodes reach; a firewall?)"
        for name, where in (("ray-1", "10.0.0.2"), ("ray-2", "?"))
    ]
    assert stranded.command == node_command(connect, keys, "ray-1", 1)


def test_the_slots_follow_the_nodes_that_join_and_leave(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``RayPlacement.update`` at each look: a slot started for each Ray node that joined, one
    removed for each that left, a node without a key logged once; Ray's part (the placement
    group, the actor) is ``RaySlot.start``/``remove``, recorded here."""
    done: list[tuple[str, str]] = []
    monkeypatch.setattr(RaySlot, "start", lambda slot, group: done.append(("start", group)))
    monkeypatch.setattr(RaySlot, "remove", lambda slot: done.append(("remove", slot.name)))
    placement = object.__new__(RayPlacement)  # its state only: no Ray cluster here
    placement.head = _head()
    placement.ray, placement.run_id, placement.connect = None, "r1", "tcp://10.0.0.1:5555"
    placement.keys, placement.accepted = Path("/k"), frozenset({"ray-1", "ray-2"})
    placement.slots, placement.keyless = {}, set()
    placement.stopping = placement.looked = False
    a, b, c = (RayNode(f"{x}" * 12, f"10.0.0.{i}", 1) for i, x in enumerate("abc", 2))
    with caplog.at_level("INFO", logger="holdemd.ray"):
        placement.update([a])  # the start
        placement.update([a, b])  # b joins
        placement.update([a, b, c])  # c joins: no key left for it
        placement.update([a, b, c])  # ... logged once
        placement.head.hosts["ray-1"] = RemoteHost(name="ray-1", index=1, state="running")
        placement.update([b, c])  # a leaves: its node may still be connected
        placement.head.hosts["ray-1"].state = "lost"
        placement.update([b, c])  # the head let it go: c gets its name
    assert done == [
        ("start", "holdemd-r1-ray-1-aaaaaaaa"),
        ("start", "holdemd-r1-ray-2-bbbbbbbb"),
        ("remove", "ray-1"),
        ("start", "holdemd-r1-ray-1-cccccccc"),
    ]
    assert {node_id[0]: slot.name for node_id, slot in placement.slots.items()} == {
        "b": "ray-2",
        "c": "ray-1",
    }
    assert [r.getMessage() for r in caplog.records] == [
        "ray: the Ray node 10.0.0.3 (bbbbbbbb, 1 CPU) joined the cluster: placing ray-2 there",
        "ray: the Ray node 10.0.0.4 (1 CPU) that joined gets no holdemd node: no key for ray-3 "
        "in /k; run holdemd keys init /k --hosts ray-3, copy the directory (less "
        "head.key_secret) to the Ray nodes and restart the run",
        "ray: ray-1's Ray node 10.0.0.2 (aaaaaaaa) left the cluster; its holdemd node went "
        "with it and is not placed elsewhere",
        "ray: the Ray node 10.0.0.4 (cccccccc, 1 CPU) joined the cluster: placing ray-1 there",
    ]


def test_the_runs_signal_handlers_outlive_ray_init() -> None:
    """``ray.init`` sets SIGTERM to exit the process: a daemon's SIGTERM must still stop the run
    with a final snapshot (the real one against a cluster: ``test_ray_e2e.py``)."""
    from holdemd.hosts.ray_placement import _signals_kept

    def ours(signum: int, frame: object) -> None:
        pass

    before, interrupt = signal.signal(signal.SIGTERM, ours), signal.getsignal(signal.SIGINT)
    try:
        with _signals_kept():
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))  # Ray's
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGTERM) is ours
        assert signal.getsignal(signal.SIGINT) is interrupt
    finally:
        signal.signal(signal.SIGTERM, before)
