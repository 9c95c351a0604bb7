"""A real head and a real node over loopback: at the end the node's replica is the head's final
regret table, bit for bit, for dense and for lazily allocated tables, through discounts.

The head is ``holdemd train --listen`` in a subprocess; the node runs in this process (its
workers are real processes), so the test can read its replica before it is closed. Discounts
run (every 100,000 iterations until 300,000) and must reach the replica as factors, not as
the table sent again; the run goes on past them, so nothing changes the head's table after the
node's last update (one node: no other host's final work comes after its own).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from holdemd.hosts.keys import init_keys, load_node_keys
from holdemd.hosts.node import HostNode, NodeOptions
from holdemd.hosts.replica import DenseReplica, LazyReplica, Replica
from holdemd.rundir.load import load_snapshot
from holdemd.solver.lazy_tables import LazyTables

pytestmark = [
    pytest.mark.needs_jit(reason="real training runs need the kernels"),
    pytest.mark.timeout(240),
]

ROOT = Path(__file__).resolve().parents[2]
ITERATIONS = 600_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_file(tmp: Path, tables: str) -> Path:
    config: dict[str, Any] = yaml.safe_load((ROOT / "configs" / "leduc.yaml").read_text())
    config["solver"]["tables"] = tables
    config["schedule"]["discount_interval"] = "100000it"
    config["schedule"]["discount_stop"] = "300000it"
    path = tmp / f"leduc-{tables}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("tables", ["dense", "lazy"])
def test_the_replica_ends_equal_to_the_heads_table(
    tmp_path: Path, tables: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys"
    init_keys(keys, ["n1"])
    url = f"tcp://127.0.0.1:{free_port()}"
    run_dir = tmp_path / "run"
    head_log = tmp_path / "head.log"
    argv = [sys.executable, "-m", "holdemd.cli", "train", "--config"]
    argv += [str(config_file(tmp_path, tables)), "--iterations", str(ITERATIONS)]
    argv += ["--num-workers", "1", "--listen", url, "--keys", str(keys), "--logdir", str(run_dir)]
    seen: dict[str, Any] = {}
    close = Replica.close

    def keep_regret(replica: Replica) -> None:  # the node's last look at its replica
        t = replica.tables
        everything = np.arange(replica.game.num_rows)
        regret = (
            t.rows(replica.game, everything, "regret") if isinstance(t, LazyTables) else t.regret
        )
        seen["regret"], seen["kind"] = np.array(regret), type(t).__name__
        close(replica)

    monkeypatch.setattr(Replica, "close", keep_regret)
    scaled: list[float] = []
    for kind in (DenseReplica, LazyReplica):  # the discounts come as factors

        def scale(replica: Replica, factor: float, original: Any = kind.scale) -> None:
            scaled.append(factor)
            original(replica, factor)

        monkeypatch.setattr(kind, "scale", scale)
    with open(head_log, "wb") as out:
        head = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        options = NodeOptions(connect=url, name="n1", num_workers=1, once=True)
        assert asyncio.run(HostNode(options, load_node_keys(keys, "n1")).run()) == 0
        assert head.wait(timeout=120) == 0, head_log.read_text()[-3000:]
    finally:
        if head.poll() is None:
            head.kill()
            head.wait()
    log = head_log.read_text()
    discounts = log.count("linear-CFR discount")
    assert discounts >= 3, log[-3000:]  # the schedule's passes ran...
    assert len(scaled) == discounts  # ... and each reached the replica once, as a factor
    loaded = load_snapshot(run_dir)
    stored = loaded.stored
    assert seen["kind"] == type(stored).__name__  # the replica is of the head's kind
    if isinstance(stored, LazyTables):
        head_regret = stored.rows(loaded.game, np.arange(loaded.game.num_rows), "regret")
    else:
        head_regret = stored.regret
    assert np.abs(head_regret).sum() > 0
    assert np.array_equal(seen["regret"], head_regret)
