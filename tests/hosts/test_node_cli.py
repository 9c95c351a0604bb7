"""``holdemd node`` and ``holdemd train --listen`` at the edge: one-line refusals, exit code 2."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zmq

from holdemd.hosts.guard import HeadSecurity
from holdemd.hosts.keys import init_keys, load_head_keys

ROOT = Path(__file__).resolve().parents[2]


def holdemd(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "holdemd.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_node_whose_key_the_head_refuses_ends_with_the_reason(tmp_path: Path) -> None:
    head_dir, other_dir = tmp_path / "head", tmp_path / "other"
    init_keys(head_dir, ["n1"])
    init_keys(other_dir, ["n9"])  # a host the head has never heard of ...
    shutil.copy(head_dir / "head.key", other_dir / "head.key")  # ... that pins the right head
    context: zmq.Context[Any] = zmq.Context()
    security = HeadSecurity(context, load_head_keys(head_dir), logging.getLogger("test"))
    security.start()
    router = context.socket(zmq.ROUTER)
    try:
        router.setsockopt(zmq.LINGER, 0)
        security.secure_server(router)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        done = holdemd(
            "node",
            "--connect",
            f"tcp://127.0.0.1:{port}",
            "--keys",
            str(other_dir),
            "--name",
            "n9",
            "--num-workers",
            "1",
        )
        assert router.poll(0) == 0  # not one frame of it reached the head
    finally:
        router.close()
        security.stop()
        context.term()
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("holdemd: tcp://127.0.0.1:") and "refused host n9's key" in last


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "tcp://127.0.0.1:5999"], "--listen needs --keys DIR"),
        (["--keys", "KEYS"], "--keys is for a multi-host run's head"),
        (["--listen", "127.0.0.1:5999", "--keys", "KEYS"], "expected tcp://ADDRESS:PORT"),
    ],
)
def test_train_refuses_an_incomplete_head_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    init_keys(tmp_path / "keys", ["n1"])
    args = [str(tmp_path / "keys") if a == "KEYS" else a for a in args]
    done = holdemd("train", "--config", "configs/leduc.yaml", *args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert not (ROOT / "runs").exists() or not any(
        p.stat().st_mtime > tmp_path.stat().st_mtime for p in (ROOT / "runs").iterdir()
    )


def test_node_refuses_a_connect_address_that_is_not_tcp(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys", ["n1"])
    done = holdemd(
        "node", "--connect", "ipc:///tmp/x", "--keys", str(tmp_path / "keys"), "--name", "n1"
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "holdemd: --connect ipc:///tmp/x: expected tcp://HOST:PORT (the head's --listen address)"
    )


def test_a_head_that_cannot_listen_leaves_no_run_behind(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys", ["n1"])
    run = tmp_path / "run"
    done = holdemd(
        "train",
        "--config",
        "configs/leduc.yaml",
        "--deterministic",
        "--listen",
        "tcp://127.0.0.1:5999",
        "--keys",
        str(tmp_path / "keys"),
        "--logdir",
        str(run),
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "holdemd: --listen: training.deterministic runs in lockstep rounds on one host; "
        "set it to false for a multi-host run"
    )
    assert not run.exists()
