"""``holdemd train|serve --listen ... --keys DIR --ray ADDRESS``: a ``holdemd node`` on every
Ray node, also on those that join the cluster during the run.

The head connects to the user's Ray cluster (``ray.init(address=ADDRESS)``, after checking that
something answers there: Ray would retry an address where nothing listens for minutes) and
looks at the cluster's alive nodes at the start and then every few seconds (``ray.nodes()``, off
the event loop). Every Ray node that ``ray_plan`` chooses gets a ``ray_slot.RaySlot``: its own
placement group of one bundle pinned to that node, and an actor in it that runs and watches the
node. A Ray node that leaves the cluster takes its node with it; its slot is removed and its
name freed, and nothing is placed elsewhere in its stead. Which Ray nodes get one, their names
and keys, where they connect and how an ended node is judged are decided without Ray, in
``ray_plan``; this module keeps the list of slots in step with the cluster.

At the end: each node is asked to stop (SIGINT, then SIGKILL), the actors are killed, the
placement groups removed and the head disconnects. If the head dies, Ray removes the groups and
their actors once it finds the head's driver gone (a minute, measured), and each node goes with
its actor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.errors import UsageError
from holdemd.hosts.ray_plan import (
    RayNode,
    connect_address,
    first_line,
    gcs_endpoint,
    keyless_message,
    missing_keys_error,
    nodes_to_place,
    plan_changes,
    require_ray,
)
from holdemd.hosts.ray_slot import RaySlot

if TYPE_CHECKING:
    from holdemd.hosts.head import HostsHead

log = logging.getLogger("holdemd.ray")

WATCH_SECONDS = 5.0  # how often the head looks for Ray nodes that joined or left
PROBE_SECONDS = 5.0  # how long the check that something answers at --ray waits
STOP_GRACE = 5.0  # a node asked to stop at the end: SIGKILL after this long


class RayPlacement:
    """The head's Ray connection and one slot per Ray node (see the module docstring)."""

    def __init__(self, address: str, head: HostsHead, keys: Path, run_id: str) -> None:
        require_ray(address)
        _probe(address)
        import ray

        self.ray: Any = ray  # the module (untyped)
        self.address = address
        self.head = head
        self.keys = keys.resolve()
        self.run_id = run_id
        self.accepted = frozenset(head.security.keys.hosts.values())
        self.slots: dict[str, RaySlot] = {}  # by Ray node id
        self.keyless: set[str] = set()  # Ray node ids logged as left out for a missing key
        self.stopping = False
        self.looked = False  # the first look at the cluster is done: new nodes joined since
        self.watch_failing = False
        try:
            with _signals_kept():
                ray.init(
                    address=address,
                    namespace="holdemd",
                    log_to_driver=False,  # the nodes' output stays in Ray's logs on their hosts
                    logging_level=logging.WARNING,
                )
        except Exception as exc:  # ConnectionError, ValueError, ...: Ray's own words
            raise UsageError(
                f"--ray {address}: cannot connect to a Ray cluster there "
                f"({first_line(exc)}); start one with `ray start --head` or give its address"
            ) from exc
        try:
            client = ray.util.client.ray.is_connected()
            self.head_node = None if client else ray.get_runtime_context().get_node_id()
            self.nodes = nodes_to_place(ray.nodes(), self.head_node)
            first = plan_changes(self.nodes, {}, self.accepted)
            if first.keyless:
                names = [name for _, name in first.place + first.keyless]
                raise missing_keys_error(self.keys, [name for _, name in first.keyless], names)
            self.connect = connect_address(head.endpoint, _reachable_ip(ray, address, client))
        except BaseException:
            ray.shutdown()
            raise

    # -- keeping the slots in step with the cluster ------------------------------------------

    async def keep_placed(self) -> None:
        """Place a node on every chosen Ray node now and on those that join (until
        cancelled); each slot keeps its own node."""
        # Logged here, not when connecting: the run's log file is open by now.
        if self.nodes:
            log.info(
                "ray: %d node(s) to place from the cluster at %s (%s); they connect to %s",
                len(self.nodes),
                self.address,
                ", ".join(f"{n.address}: {n.cpus} CPU" for n in self.nodes),
                self.connect,
            )
        else:
            log.warning(
                "ray: the cluster at %s has no Ray node with a CPU besides the head's yet; "
                "nodes that join it (`ray start --address=...`) get one, connecting to %s",
                self.address,
                self.connect,
            )
        nodes = self.nodes
        try:
            while not self.stopping:
                self.update(nodes)
                await asyncio.sleep(WATCH_SECONDS)
                nodes = await self._alive_nodes(nodes)
        finally:
            for slot in self.slots.values():
                if slot.task is not None:
                    slot.task.cancel()

    async def _alive_nodes(self, last: list[RayNode]) -> list[RayNode]:
        """The cluster's nodes now; ``last`` while the cluster does not answer (logged once)."""
        try:
            nodes = nodes_to_place(await asyncio.to_thread(self.ray.nodes), self.head_node)
        except Exception as exc:  # the GCS restarting, a network hiccup: look again later
            if not self.watch_failing:
                log.warning(
                    "ray: cannot list the cluster's nodes (%s); the placed nodes run on, "
                    "trying again every %.0f s",
                    first_line(exc),
                    WATCH_SECONDS,
                )
            self.watch_failing = True
            return last
        if self.watch_failing:
            log.info("ray: the cluster's nodes are listed again")
        self.watch_failing = False
        return nodes

    def update(self, nodes: list[RayNode]) -> None:
        """Remove the slots of Ray nodes that left, add slots on those that joined."""
        if self.stopping:
            return
        in_use = {host.name for host in self.head.hosts.values() if host.connected}
        placed = {node_id: slot.name for node_id, slot in self.slots.items()}
        changes = plan_changes(nodes, placed, self.accepted, in_use)
        for node_id in changes.gone:
            slot = self.slots.pop(node_id)
            slot.remove()
            log.warning(
                "ray: %s's Ray node %s (%s) left the cluster; its holdemd node went with it and "
                "is not placed elsewhere",
                slot.name,
                slot.node.address,
                node_id[:8],
            )
        for node, name in changes.place:
            if self.looked:
                log.info(
                    "ray: the Ray node %s (%s, %d CPU) joined the cluster: placing %s there",
                    node.address,
                    node.node_id[:8],
                    node.cpus,
                    name,
                )
            slot = self.slots[node.node_id] = RaySlot(
                self.ray, node, name, self.connect, self.keys, self.head
            )
            slot.start(f"holdemd-{self.run_id}-{name}-{node.node_id[:8]}")
            self.keyless.discard(node.node_id)
        for node, name in changes.keyless:
            if node.node_id not in self.keyless:
                self.keyless.add(node.node_id)
                log.error("%s", keyless_message(self.keys, node, name))
        self.looked = True

    # -- the end -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every node, kill the actors, remove the placement groups, disconnect."""
        self.stopping = True
        slots = list(self.slots.values())
        stops = [ref for slot in slots if (ref := slot.ask_to_stop(STOP_GRACE)) is not None]
        if stops:
            # Nodes still running (a run that ended early): they leave, their workers with them.
            self.ray.wait(stops, num_returns=len(stops), timeout=2 * STOP_GRACE + 5)
        for slot in slots:
            slot.remove()
        self.ray.shutdown()
        log.info(
            "ray: %d node actor(s) and %d placement group(s) removed",
            sum(slot.actor is not None for slot in slots),
            len(slots),
        )


def _probe(address: str) -> None:
    """A one-line error, at once, when nothing answers at ``--ray``'s host and port."""
    endpoint = gcs_endpoint(address)
    if endpoint is None:
        return
    try:
        with socket.create_connection(endpoint, timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        raise UsageError(
            f"--ray {address}: nothing answers at {endpoint[0]}:{endpoint[1]} "
            f"({exc.strerror or exc}); start a Ray head there (`ray start --head`) or give "
            f"its address"
        ) from exc


@contextlib.contextmanager
def _signals_kept() -> Iterator[None]:
    """``ray.init`` in the main thread makes SIGTERM exit the process (``sys.exit``): the run's
    own handlers (a final snapshot; the daemon's shutdown) are put back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


def _reachable_ip(ray: Any, address: str, client: bool) -> str:
    endpoint = gcs_endpoint(address)
    if not client or endpoint is None:
        return str(ray.util.get_node_ip_address())
    # Through Ray Client: the address of this machine on its route to the cluster.
    from ray._private.services import node_ip_address_from_perspective

    return str(node_ip_address_from_perspective(f"{endpoint[0]}:{endpoint[1]}"))
