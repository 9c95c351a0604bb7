"""``holdemd train --ray``, the parts that need no Ray cluster (``ray_plan``, and a warning of
``ray_placement``): the nodes chosen, their names and command line, the address they connect
to, the verdict on a node that ended, the errors a user can meet, and the actor body
(``ray_node.NodeProcess``) with real processes.

The placement itself, against a real Ray cluster in network namespaces: ``test_ray_e2e.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from holdemd.cli import main
from holdemd.errors import UsageError
from holdemd.hosts import ray_plan
from holdemd.hosts.keys import KeysError, init_keys
from holdemd.hosts.ray_node import NodeProcess
from holdemd.hosts.ray_plan import (
    RayNode,
    check_host_keys,
    connect_address,
    host_name,
    judge_end,
    node_command,
    nodes_to_place,
    require_ray,
)

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


def test_nodes_are_named_by_bundle_and_run_one_run_with_the_bundles_cpus() -> None:
    assert [host_name(i) for i in range(3)] == ["ray-1", "ray-2", "ray-3"]
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


def test_missing_host_keys_are_named_with_the_command_that_makes_them(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    init_keys(keys, ["ray-1"])
    check_host_keys(keys, ["ray-1"])
    with pytest.raises(KeysError) as error:
        check_host_keys(keys, ["ray-1", "ray-2", "ray-3"])
    message = str(error.value)
    assert "\n" not in message
    assert f"no key for ray-2, ray-3 (one per Ray node); run holdemd keys init {keys} " in message
    assert "--hosts ray-1 ray-2 ray-3 and copy the directory, less head.key_secret" in message


def test_without_ray_installed_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ray_plan.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError) as error:
        require_ray("auto")
    assert str(error.value) == "--ray auto: Ray is not installed here; pip install 'holdemd[ray]'"
    # At the command line: before anything is built, one line, exit code 2.
    argv = ["train", "--config", str(ROOT / "configs" / "leduc.yaml")]
    argv += ["--logdir", str(tmp_path / "run")]
    code = main([*argv, "--listen", "tcp://0.0.0.0:5555", "--keys", "k", "--ray", "auto"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "holdemd: --ray auto: Ray is not installed here; pip install 'holdemd[ray]'"
    )
    assert not (tmp_path / "run").exists()


def test_ray_without_listen_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(ROOT / "configs" / "leduc.yaml")
    assert main(["train", "--config", config, "--ray", "auto"]) == 2
    assert "--ray places the nodes of a multi-host run: give --listen" in capsys.readouterr().err


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


def test_a_placed_node_that_never_joined_is_named_with_the_address_it_tries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The usual mistake: --listen on an address the Ray nodes cannot reach."""
    from types import SimpleNamespace

    from holdemd.hosts.ray_placement import Bundle, RayPlacement
    from holdemd.hosts.remote import RemoteHost

    placement = object.__new__(RayPlacement)  # its state only: no Ray cluster here
    placement.connect = "tcp://127.0.0.1:5555"
    back = RemoteHost(name="ray-2", index=2, joined_at=100.0)
    placement.head = SimpleNamespace(hosts={"ray-2": back})  # type: ignore[assignment]
    stranded = Bundle(0, 1, "ray-1", where={"address": "10.0.0.2"})
    with caplog.at_level("WARNING", logger="holdemd.ray"):
        placement._warn_unless_joined(stranded, placed_at=50.0)
        placement._warn_unless_joined(Bundle(1, 1, "ray-2"), placed_at=50.0)  # joined since
        placement._warn_unless_joined(Bundle(1, 1, "ray-2"), placed_at=150.0)  # an old session
    assert [r.getMessage() for r in caplog.records] == [
        f"ray: {name} (on {where}) has not joined 30 s after it was placed: can it reach "
        "tcp://127.0.0.1:5555? (give --listen an address the Ray nodes reach; a firewall?)"
        for name, where in (("ray-1", "10.0.0.2"), ("ray-2", "?"))
    ]
