"""``holdemd train --listen ... --keys DIR --ray ADDRESS``: a ``holdemd node`` on every Ray node.

The head connects to the user's Ray cluster (``ray.init(address=ADDRESS)``) and places the
nodes with one placement group, one bundle per Ray node, ``STRICT_SPREAD``; in each bundle an
actor (``ray_node.NodeProcess``) runs ``holdemd node --connect <the head> --keys DIR --name
ray-<bundle> --num-workers <the bundle's CPUs> --once`` as a subprocess and watches it. Ray
only places and watches processes: the run's data goes over ZeroMQ with CURVE, as for nodes
placed any other way. Which Ray nodes get one, where they connect, which keys they use and how
an ended node is judged are decided without Ray, in ``ray_plan``; this module does the placing
and the watching with Ray.

Faults: when a node process ends (killed, crashed) or its actor dies (its Ray node is gone),
the head logs it and places a new actor in the same bundle after a back-off (1 s, doubling to
30 s; back to 1 s after a minute of running); Ray re-places a lost node's bundle on another
node when one fits (or on that machine's Ray node started again). A node that exits with
holdemd's own error codes (1, 2: bad keys, a refusal) is logged with its last line and not
placed again, nor one that ended its run (0). A node that has not joined 30 s after it was
placed is logged with the address it tries. At the end: each node is asked to stop (SIGINT,
then SIGKILL), the actors are killed, the placement group removed and the head disconnects.
If the head dies, Ray removes the group and its actors once it finds the head's driver gone
(a minute, measured), and each node goes with its actor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.errors import UsageError
from holdemd.hosts.ray_plan import (
    check_host_keys,
    connect_address,
    host_name,
    judge_end,
    node_command,
    nodes_to_place,
    require_ray,
)

if TYPE_CHECKING:
    from holdemd.hosts.head import HostsHead

log = logging.getLogger("holdemd.ray")

PLACE_WARNING_SECONDS = 60.0  # a placement group not placed by then is logged (and waited for)
JOIN_WARNING_SECONDS = 30.0  # a node placed this long ago that never joined: can it reach us?
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STEADY_SECONDS = 60.0  # a node that ran this long is placed again without back-off
STOP_GRACE = 5.0  # a node asked to stop at the end: SIGKILL after this long


@dataclass
class Bundle:
    """One bundle of the placement group and the node placed in it."""

    index: int
    cpus: int
    name: str
    actor: Any = None
    placements: int = 0  # how many actors were made for it
    where: dict[str, Any] = field(default_factory=dict)
    running: bool = False  # its actor is up and its node process runs


class RayPlacement:
    """The head's Ray connection, placement group and node actors (see the module docstring)."""

    def __init__(self, address: str, head: HostsHead, keys: Path, run_id: str) -> None:
        require_ray(address)
        import ray
        from ray.util.placement_group import placement_group

        self.ray = ray
        self.address = address
        self.head = head
        self.keys = keys.resolve()
        self.stopping = False
        try:
            ray.init(
                address=address,
                namespace="holdemd",
                log_to_driver=False,  # the nodes' output stays in Ray's logs on their hosts
                logging_level=logging.WARNING,
            )
        except Exception as exc:  # ConnectionError, ValueError, ...: Ray's own words
            raise UsageError(
                f"--ray {address}: cannot connect to a Ray cluster there "
                f"({_first_line(exc)}); start one with `ray start --head` or give its address"
            ) from exc
        try:
            client = ray.util.client.ray.is_connected()
            head_node = None if client else ray.get_runtime_context().get_node_id()
            self.head_node = head_node
            nodes = nodes_to_place(ray.nodes(), head_node)
            if not nodes:
                raise UsageError(
                    f"--ray {address}: the cluster has no Ray node with a CPU besides this "
                    f"one; add nodes with `ray start --address=...` on the other hosts"
                )
            self.bundles = [Bundle(i, node.cpus, host_name(i)) for i, node in enumerate(nodes)]
            check_host_keys(self.keys, [bundle.name for bundle in self.bundles])
            head_ip = _reachable_ip(ray, address, client)
            self.connect = connect_address(head.endpoint, head_ip)
            self.group = placement_group(
                [{"CPU": bundle.cpus} for bundle in self.bundles],
                strategy="STRICT_SPREAD",
                name=f"holdemd-{run_id}",
                # Not on the head's node (STRICT_SPREAD alone could pick it).
                bundle_label_selector=[{"ray.io/node-id": f"!{head_node}"}] * len(nodes)
                if head_node
                else None,
            )
        except BaseException:
            ray.shutdown()
            raise
        self.nodes = nodes

    # -- placing and watching ----------------------------------------------------------------

    async def keep_placed(self) -> None:
        """Wait for the placement group, then keep a node in every bundle (until cancelled)."""
        # Logged here, not when connecting: the run's log file is open by now.
        log.info(
            "ray: %d node(s) to place from the cluster at %s (%s); they connect to %s",
            len(self.bundles),
            self.address,
            ", ".join(f"{n.address}: {n.cpus} CPU" for n in self.nodes),
            self.connect,
        )
        ready = self.group.ready()
        try:
            await asyncio.wait_for(asyncio.shield(_future(ready)), PLACE_WARNING_SECONDS)
        except asyncio.TimeoutError:
            log.warning(
                "ray: the placement group (%s) is not placed after %.0f s: are the nodes' "
                "CPUs held by other Ray work? Waiting on",
                " + ".join(f"{b.cpus} CPU" for b in self.bundles),
                PLACE_WARNING_SECONDS,
            )
            await _future(ready)
        bundles = self._off_the_head()
        try:
            await asyncio.gather(*(self._keep(bundle) for bundle in bundles))
        except Exception:  # a bug here must not go unseen, nor stop the run
            log.exception("ray: watching the nodes failed; the placed ones run on unwatched")

    def _off_the_head(self) -> list[Bundle]:
        """The bundles not on the head's own node: a Ray that ignores bundle label selectors
        (before 2.50, which the ``ray`` extra asks for) may put one there, where the head's
        workers already run."""
        table = self.ray.util.placement_group_table(self.group)
        on_node = table.get("bundles_to_node_id", {})
        bundles = [b for b in self.bundles if on_node.get(b.index) != self.head_node]
        for bundle in self.bundles:
            if bundle not in bundles:
                log.warning(
                    "ray: %s was placed on the head's own Ray node (this Ray ignores bundle "
                    "label selectors: install holdemd[ray], Ray 2.50 or newer): no node there",
                    bundle.name,
                )
        return bundles

    async def _keep(self, bundle: Bundle) -> None:
        backoff = BACKOFF_FIRST
        while not self.stopping:
            started = time.monotonic()
            why, final = await self._place_and_wait(bundle)
            if self.stopping:
                return
            with contextlib.suppress(Exception):
                self.ray.kill(bundle.actor, no_restart=True)
            if final:
                if why:
                    log.error("ray: %s %s; not placed again", bundle.name, why)
                return
            if time.monotonic() - started >= STEADY_SECONDS:
                backoff = BACKOFF_FIRST
            log.warning("ray: %s %s; placing it again in %.0f s", bundle.name, why, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _place_and_wait(self, bundle: Bundle) -> tuple[str, bool]:
        """Place an actor in the bundle and wait for its node to end: (why, final)."""
        from ray.exceptions import RayError

        bundle.actor = self._actor(bundle)
        bundle.placements += 1
        try:
            bundle.where = await _future(bundle.actor.where.remote())
            bundle.running = True
            placed_at = time.monotonic()
            log.info(
                "ray: %s placed on %s (Ray node %s, %d worker(s)): holdemd node pid %d",
                bundle.name,
                bundle.where["address"],
                bundle.where["node_id"][:8],
                bundle.cpus,
                bundle.where["pid"],
            )
            ended = _future(bundle.actor.wait.remote())
            try:
                await asyncio.wait_for(asyncio.shield(ended), JOIN_WARNING_SECONDS)
            except asyncio.TimeoutError:
                self._warn_unless_joined(bundle, placed_at)
            code, tail, asked = await ended
        except RayError as exc:  # the actor died, or its node: Ray's words say which
            return f"lost its Ray actor ({_first_line(exc)})", False
        finally:
            bundle.running = False
        return judge_end(code, tail, asked, bundle.where.get("address", "?"))

    def _warn_unless_joined(self, bundle: Bundle, placed_at: float) -> None:
        host = self.head.hosts.get(bundle.name)
        if host is None or host.joined_at < placed_at:
            log.warning(
                "ray: %s (on %s) has not joined %.0f s after it was placed: can it reach %s? "
                "(give --listen an address the Ray nodes reach; a firewall?)",
                bundle.name,
                bundle.where.get("address", "?"),
                JOIN_WARNING_SECONDS,
                self.connect,
            )

    def _actor(self, bundle: Bundle) -> Any:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from holdemd.hosts.ray_node import NodeProcess

        actor_class = self.ray.remote(NodeProcess).options(
            num_cpus=bundle.cpus,  # the whole bundle: nothing else of Ray's runs beside the node
            max_restarts=0,  # the head places it again itself (back-off, a log line)
            max_concurrency=4,  # wait() blocks while stop() must still get through
            scheduling_strategy=PlacementGroupSchedulingStrategy(
                self.group, placement_group_bundle_index=bundle.index
            ),
        )
        return actor_class.remote(node_command(self.connect, self.keys, bundle.name, bundle.cpus))

    # -- the end -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every node, kill the actors, remove the placement group, disconnect."""
        from ray.util.placement_group import remove_placement_group

        self.stopping = True
        ray = self.ray
        actors = [bundle.actor for bundle in self.bundles if bundle.actor is not None]
        # Not those still waiting for a place (their node is gone): they would never answer.
        stops = [b.actor.stop.remote(STOP_GRACE) for b in self.bundles if b.running]
        if stops:
            # Nodes still running (a run that ended early): they leave, their workers with them.
            ray.wait(stops, num_returns=len(stops), timeout=2 * STOP_GRACE + 5)
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
        with contextlib.suppress(Exception):
            remove_placement_group(self.group)
        ray.shutdown()
        log.info("ray: %d node actor(s) and the placement group removed", len(actors))


def _future(ref: Any) -> asyncio.Future[Any]:
    """A Ray object ref as an asyncio future of the running loop. Its error counts as seen
    even when nobody awaits it any more (a watch cancelled at the end of the run while an
    actor is being killed): asyncio would log it as never retrieved."""
    future = asyncio.wrap_future(ref.future())
    future.add_done_callback(_seen)
    return future


def _seen(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _reachable_ip(ray: Any, address: str, client: bool) -> str:
    if not client:
        return str(ray.util.get_node_ip_address())
    # Through Ray Client: the address of this machine on its route to the cluster.
    from ray._private.services import node_ip_address_from_perspective

    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    return str(node_ip_address_from_perspective(f"{host}:10001"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
