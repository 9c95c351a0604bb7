"""What the head decides for ``--ray`` without Ray: which Ray nodes get a ``holdemd node`` (at
the start and every time it looks at the cluster), their names and keys, the address they
connect to, the command their actor runs, and the verdict on a node that ended. The placing
and watching with Ray is ``ray_placement`` (the cluster) and ``ray_slot`` (one Ray node).

Which Ray nodes: every alive node with at least one CPU except the one the head's own Ray
driver is attached to (``address=auto`` or ``HOST:6379`` from a Ray node): that machine already
runs the head's local workers (``--num-workers``). Through Ray Client (``ray://...``) the head
is not on a Ray node, so every node gets one. The head looks again every few seconds: a node
that joins the cluster during the run gets one too, and one that leaves takes its holdemd node
with it (none is placed elsewhere in its stead: every other node has its own already). A node
asks for its Ray node's CPUs (Ray's total, ``ray start --num-cpus``) and runs that many workers.

Names: a Ray node gets the lowest ``ray-<k>`` that no other Ray node holds and no connected host
uses at the head, and keeps it while it is in the cluster (a node that left frees its name for
the next to join). Nodes are named largest first, so when keys run short the largest get them.

Where the nodes connect: the ``--listen`` address, unless it listens on every interface
(``0.0.0.0``, ``*``, ``::``), which no node can connect to: then the head's address as Ray
knows it (``ray.util.get_node_ip_address()``; through Ray Client, the address this machine
reaches the cluster from) with the same port.

Keys: the head accepts ``ray-<k>`` by ``DIR/ray-<k>.key`` like any host (``holdemd keys init DIR
--hosts ray-1 ... ray-N``; make a few more than the nodes you start with for those that join
later: the head reads its keys when it starts), and the node reads ``DIR/ray-<k>.key_secret`` and
``DIR/head.key`` at the same path on its Ray node: a shared file system, or the directory copied
(without ``head.key_secret``) to every Ray node. At the start, a Ray node without a key stops the
run with the command that makes it; one that joins later is logged with it and left out. Every
Ray node holds every ``ray-*`` secret, since which name a node gets depends on the order they
join; that adds nothing to what one Ray node can already do, since any member of a Ray cluster
runs code on every other (Ray's own trust model). The secrets are not handed to the actors
through Ray instead: Ray's transport is neither encrypted nor authenticated unless the cluster
was set up with TLS, and an actor's arguments are kept in the cluster's control store; files
keep the secrets off the wire, and the cluster needs no more trust than it already has.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import itertools
import signal
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd.errors import ExitCode, UsageError
from holdemd.hosts.keys import KeysError

NAME_PREFIX = "ray-"
EXTRA = "pip install 'holdemd[ray]'"
# The first Ray that honours bundle label selectors (ray-project/ray#55599), which pin a node's
# placement group to its Ray node.
RAY_MINIMUM = (2, 50)
WILDCARD_HOSTS = ("0.0.0.0", "*", "::", "[::]")
RAY_CLIENT_PORT = 10001  # ray://HOST without a port
# holdemd's exit codes for errors a new process would meet again (bad keys, a refusal).
FINAL_CODES = (int(ExitCode.FAILURE), int(ExitCode.USAGE))


def check_ray_flags(address: str, listen: str | None) -> None:
    """``--ray`` as given to ``train`` or ``serve``: with ``--listen``, and Ray installed (new
    enough); a one-line error before anything is built."""
    if not listen:
        raise UsageError(
            "--ray places the nodes of a multi-host run: give --listen tcp://0.0.0.0:PORT "
            "and --keys DIR too"
        )
    require_ray(address)


def require_ray(address: str) -> None:
    """A one-line error when Ray is not installed, or too old to pin a node to its Ray node."""
    if importlib.util.find_spec("ray") is None:
        raise UsageError(f"--ray {address}: Ray is not installed here; {EXTRA}")
    version = importlib.metadata.version("ray")
    if _release(version) < RAY_MINIMUM:
        raise UsageError(
            f"--ray {address}: Ray {version} is too old (holdemd needs "
            f"{'.'.join(map(str, RAY_MINIMUM))} or newer, here and on the cluster); {EXTRA}"
        )


def _release(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(itertools.takewhile(str.isdigit, part))
        numbers.append(int(digits or 0))
    return tuple(numbers)


def gcs_endpoint(address: str) -> tuple[str, int] | None:
    """The host and port ``ray.init(address)`` connects to, to check that something answers
    there first (Ray itself retries an address where nothing listens for minutes); None for
    ``auto`` and addresses without a port, which Ray resolves itself."""
    rest = address
    default_port = None
    if address.startswith("ray://"):
        rest, default_port = address.removeprefix("ray://"), RAY_CLIENT_PORT
    host, sep, port = rest.rpartition(":")
    if not sep:
        host, port = rest, ""
    host = host.removeprefix("[").removesuffix("]")
    if not host or host == "auto" or "/" in host:
        return None
    if port.isdigit():
        return host, int(port)
    return (host, default_port) if default_port is not None and not port else None


def host_name(number: int) -> str:
    """The node name (and key name) number ``number``: ray-1, ray-2, ..."""
    return f"{NAME_PREFIX}{number}"


def free_names(taken: Collection[str]) -> Iterator[str]:
    """ray-1, ray-2, ... without the names in ``taken``."""
    return (name for k in itertools.count(1) if (name := host_name(k)) not in taken)


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


@dataclass(frozen=True)
class Changes:
    """What one look at the cluster asks the head to do (:func:`plan_changes`)."""

    place: tuple[tuple[RayNode, str], ...] = ()  # a new Ray node, and its node's name
    keyless: tuple[tuple[RayNode, str], ...] = ()  # a new Ray node left out: no key for the name
    gone: tuple[str, ...] = ()  # node ids of Ray nodes with a node that are no longer alive


def plan_changes(
    nodes: Sequence[RayNode],
    placed: Mapping[str, str],
    accepted: Collection[str],
    in_use: Collection[str] = (),
) -> Changes:
    """The changes between the Ray nodes alive now (``nodes_to_place``) and those that hold a
    holdemd node (``placed``: Ray node id -> name). ``accepted``: the names the head has a key
    for; ``in_use``: the names of hosts connected to the head (a node whose Ray node has just
    gone may still be one: its name is not given again until the head has let it go)."""
    alive = {node.node_id for node in nodes}
    gone = tuple(node_id for node_id in placed if node_id not in alive)
    taken = {name for node_id, name in placed.items() if node_id in alive} | set(in_use)
    names = free_names(taken)
    place: list[tuple[RayNode, str]] = []
    keyless: list[tuple[RayNode, str]] = []
    for node in nodes:
        if node.node_id not in placed:
            name = next(names)
            (place if name in accepted else keyless).append((node, name))
    return Changes(tuple(place), tuple(keyless), gone)


def missing_keys_error(keys: Path, keyless: Sequence[str], names: Sequence[str]) -> KeysError:
    """At the start: Ray nodes whose names have no key in the head's key directory."""
    return KeysError(
        f"{keys}: no key for {', '.join(keyless)} (one per Ray node); run holdemd keys init "
        f"{keys} --hosts {' '.join(names)} and copy the directory, less head.key_secret, "
        f"to the same path on every Ray node"
    )


def keyless_message(keys: Path, node: RayNode, name: str) -> str:
    """During the run: a Ray node that joined and gets no holdemd node (the head reads its keys
    when it starts)."""
    return (
        f"ray: the Ray node {node.address} ({node.cpus} CPU) that joined gets no holdemd node: "
        f"no key for {name} in {keys}; run holdemd keys init {keys} --hosts {name}, copy the "
        f"directory (less head.key_secret) to the Ray nodes and restart the run"
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


def first_line(exc: BaseException) -> str:
    """An error's first line (Ray's errors run to tracebacks), for a one-line message."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
