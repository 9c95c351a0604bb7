"""What the head decides for ``--ray`` before and after it places nodes, without Ray: which Ray
nodes get a ``holdemd node``, their names and keys, the address they connect to, the command
their actor runs, and the verdict on a node that ended. The placing and watching with Ray is
``ray_placement``.

Which Ray nodes: every alive node with at least one CPU except the one the head's own Ray
driver is attached to (``address=auto`` or ``HOST:6379`` from a Ray node): that machine already
runs the head's local workers (``--num-workers``). Through Ray Client (``ray://...``) the head
is not on a Ray node, so every node gets one. A bundle asks for its node's CPUs (Ray's total,
``ray start --num-cpus``), and the node runs that many workers; a label selector keeps every
bundle off the head's node, and the bundles are listed largest first so that Ray's placement
matches sizes to nodes. Nodes that join the cluster later get none (start the run again).

Where the nodes connect: the ``--listen`` address, unless it listens on every interface
(``0.0.0.0``, ``*``, ``::``), which no node can connect to: then the head's address as Ray
knows it (``ray.util.get_node_ip_address()``; through Ray Client, the address this machine
reaches the cluster from) with the same port.

Keys: node ``ray-<i>`` is the holder of bundle ``i`` (1-based). The head accepts it by
``DIR/ray-<i>.key`` like any host (``holdemd keys init DIR --hosts ray-1 ... ray-N``), and the
node reads ``DIR/ray-<i>.key_secret`` and ``DIR/head.key`` at the same path on its Ray node: a
shared file system, or the directory copied (without ``head.key_secret``) to every Ray node.
Ray decides which node holds which bundle, so every Ray node holds every ``ray-*`` secret; that
adds nothing to what one Ray node can already do, since any member of a Ray cluster runs code on
every other (Ray's own trust model). The secrets are not handed to the actors through Ray
instead: Ray's transport is neither encrypted nor authenticated unless the cluster was set up
with TLS, and an actor's arguments are kept in the cluster's control store; files keep the
secrets off the wire, and the cluster needs no more trust than it already has.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd.errors import ExitCode, UsageError
from holdemd.hosts.keys import KeysError, public_path

NAME_PREFIX = "ray-"
EXTRA = "pip install 'holdemd[ray]'"
WILDCARD_HOSTS = ("0.0.0.0", "*", "::", "[::]")
# holdemd's exit codes for errors a new process would meet again (bad keys, a refusal).
FINAL_CODES = (int(ExitCode.FAILURE), int(ExitCode.USAGE))


def require_ray(address: str) -> None:
    """A one-line error when Ray is not installed (checked before anything is built)."""
    if importlib.util.find_spec("ray") is None:
        raise UsageError(f"--ray {address}: Ray is not installed here; {EXTRA}")


def host_name(bundle: int) -> str:
    """The node name (and key name) of bundle ``bundle`` (0-based): ray-1, ray-2, ..."""
    return f"{NAME_PREFIX}{bundle + 1}"


def connect_address(listen: str, head_ip: str) -> str:
    """The head's ``--listen`` address as the Ray nodes reach it: ``head_ip`` in place of a
    wildcard host, the address as given otherwise."""
    rest = listen.removeprefix("tcp://")
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--listen {listen}: expected tcp://ADDRESS:PORT")
    if host in WILDCARD_HOSTS:
        host = f"[{head_ip}]" if ":" in head_ip else head_ip
    return f"tcp://{host}:{port}"


def node_command(
    connect: str, keys: Path, name: str, num_workers: int, python: str = sys.executable
) -> list[str]:
    """What an actor runs: ``holdemd node`` for one run (``--once``)."""
    return [
        python,
        "-m",
        "holdemd.cli",
        "node",
        "--connect",
        connect,
        "--keys",
        str(keys),
        "--name",
        name,
        "--num-workers",
        str(num_workers),
        "--once",
    ]


@dataclass(frozen=True)
class RayNode:
    node_id: str
    address: str
    cpus: int


def nodes_to_place(nodes: Sequence[dict[str, Any]], head_node_id: str | None) -> list[RayNode]:
    """From ``ray.nodes()``: the alive nodes with a whole CPU, not the head's, largest first."""
    chosen = []
    for node in nodes:
        cpus = int(node.get("Resources", {}).get("CPU", 0))
        if node.get("Alive") and cpus >= 1 and node.get("NodeID") != head_node_id:
            chosen.append(RayNode(str(node["NodeID"]), str(node["NodeManagerAddress"]), cpus))
    return sorted(chosen, key=lambda node: -node.cpus)


def check_host_keys(keys: Path, names: Sequence[str]) -> None:
    """Every node name needs its public key in the head's key directory."""
    missing = [name for name in names if not public_path(keys, name).is_file()]
    if missing:
        raise KeysError(
            f"{keys}: no key for {', '.join(missing)} (one per Ray node); run holdemd keys init "
            f"{keys} --hosts {' '.join(names)} and copy the directory, less head.key_secret, "
            f"to the same path on every Ray node"
        )


def judge_end(code: int, tail: Sequence[str], asked: bool, address: str) -> tuple[str, bool]:
    """A node process has ended: why (for the log; "" for a normal end), and whether that is
    final (not placed again)."""
    if code == 0 or asked:
        return "", True
    where = f"(holdemd node on {address})"
    if code < 0:  # what it printed last is not why (a warning from its exit, often)
        return f"{where} killed by {_signal_name(-code)}", False
    last = next((line for line in reversed(tail) if line.strip()), "")
    return f"{where} exited with {code}" + (f": {last}" if last else ""), code in FINAL_CODES


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
