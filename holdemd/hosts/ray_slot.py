"""One Ray node's ``holdemd node`` (``holdemd train --ray``): a placement group of one bundle
pinned to that Ray node, the actor in it (``ray_node.NodeProcess``), and placing it again.

The bundle asks for all of the Ray node's CPUs and a label selector pins it to the node's id, so
the group is placed there or nowhere: when the Ray node leaves the cluster the group waits
(Ray cannot place it elsewhere) until ``ray_placement`` sees the node gone and removes it, and
no second node ever lands on a Ray node that has one. In the bundle an actor runs ``holdemd
node --connect <the head> --keys DIR --name ray-<k> --num-workers <the CPUs> --once`` as a
subprocess and watches it.

When the node process ends (killed, crashed) or its actor dies, it is logged and a new actor
is placed in the same bundle after a back-off (1 s, doubling to 30 s; back to 1 s after a
minute of running). A node that exits with holdemd's own error codes (1, 2: bad keys, a
refusal) is logged with its last line and not placed again, nor one that ended its run (0).
A node that has not joined 30 s after it was placed is logged with the address it tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.hosts.ray_plan import RayNode, first_line, judge_end, node_command

if TYPE_CHECKING:
    from holdemd.hosts.head import HostsHead

log = logging.getLogger("holdemd.ray")

PLACE_WARNING_SECONDS = 60.0  # a placement group not placed by then is logged (and waited for)
JOIN_WARNING_SECONDS = 30.0  # a node placed this long ago that never joined: can it reach us?
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STEADY_SECONDS = 60.0  # a node that ran this long is placed again without back-off


class RaySlot:
    """The holdemd node of one Ray node: its placement group, its actor and their watch."""

    def __init__(
        self, ray: Any, node: RayNode, name: str, connect: str, keys: Path, head: HostsHead
    ) -> None:
        self.ray = ray
        self.node = node
        self.name = name
        self.connect = connect
        self.command = node_command(connect, keys, name, node.cpus)
        self.head = head
        self.group: Any = None
        self.actor: Any = None
        self.placements = 0  # how many actors were made for it
        self.where: dict[str, Any] = {}
        self.running = False  # its actor is up and its node process runs
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    def start(self, group_name: str) -> None:
        """Make the placement group and start keeping a node in it (a task of the running
        loop)."""
        from ray.util.placement_group import placement_group

        self.group = placement_group(
            [{"CPU": self.node.cpus}],
            name=group_name,
            bundle_label_selector=[{"ray.io/node-id": self.node.node_id}],
        )
        self.task = asyncio.get_running_loop().create_task(self.keep(), name=f"ray {self.name}")

    # -- placing and watching ----------------------------------------------------------------

    async def keep(self) -> None:
        """Wait for the placement group, then keep a node in it (until cancelled)."""
        try:
            await self._placed()
            await self._keep()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not go unseen, nor stop the run
            log.exception(
                "ray: watching %s failed; if it is placed, it runs on unwatched", self.name
            )

    async def _placed(self) -> None:
        ready = self.group.ready()
        try:
            await asyncio.wait_for(asyncio.shield(_future(ready)), PLACE_WARNING_SECONDS)
        except asyncio.TimeoutError:
            log.warning(
                "ray: %s's %d CPU on the Ray node %s are not free after %.0f s: held by other "
                "Ray work? Waiting on",
                self.name,
                self.node.cpus,
                self.node.address,
                PLACE_WARNING_SECONDS,
            )
            await _future(ready)

    async def _keep(self) -> None:
        backoff = BACKOFF_FIRST
        while not self.stopping:
            started = time.monotonic()
            why, final = await self._place_and_wait()
            if self.stopping:
                return
            with contextlib.suppress(Exception):
                self.ray.kill(self.actor, no_restart=True)
            if final:
                if why:  # its CPUs go back to the cluster
                    log.error("ray: %s %s; not placed again", self.name, why)
                    self._remove_group()
                return
            if time.monotonic() - started >= STEADY_SECONDS:
                backoff = BACKOFF_FIRST
            log.warning("ray: %s %s; placing it again in %.0f s", self.name, why, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _place_and_wait(self) -> tuple[str, bool]:
        """Place an actor in the bundle and wait for its node to end: (why, final)."""
        from ray.exceptions import RayError

        self.actor = self._actor()
        self.placements += 1
        try:
            self.where = await _future(self.actor.where.remote())
            self.running = True
            placed_at = time.monotonic()
            log.info(
                "ray: %s placed on %s (Ray node %s, %d worker(s)): holdemd node pid %d",
                self.name,
                self.where["address"],
                self.where["node_id"][:8],
                self.node.cpus,
                self.where["pid"],
            )
            ended = _future(self.actor.wait.remote())
            try:
                await asyncio.wait_for(asyncio.shield(ended), JOIN_WARNING_SECONDS)
            except asyncio.TimeoutError:
                self.warn_unless_joined(placed_at)
            code, tail, asked = await ended
        except RayError as exc:  # the actor died, or its node: Ray's words say which
            return f"lost its Ray actor ({first_line(exc)})", False
        finally:
            self.running = False
        return judge_end(code, tail, asked, self.where.get("address", "?"))

    def warn_unless_joined(self, placed_at: float) -> None:
        host = self.head.hosts.get(self.name)
        if host is None or host.joined_at < placed_at:
            log.warning(
                "ray: %s (on %s) has not joined %.0f s after it was placed: can it reach %s? "
                "(give --listen an address the Ray nodes reach; a firewall?)",
                self.name,
                self.where.get("address", "?"),
                JOIN_WARNING_SECONDS,
                self.connect,
            )

    def _actor(self) -> Any:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from holdemd.hosts.ray_node import NodeProcess

        actor_class = self.ray.remote(NodeProcess).options(
            num_cpus=self.node.cpus,  # the whole bundle: nothing else of Ray's runs beside it
            max_restarts=0,  # placed again by _keep (back-off, a log line)
            max_concurrency=4,  # wait() blocks while stop() must still get through
            scheduling_strategy=PlacementGroupSchedulingStrategy(
                self.group, placement_group_bundle_index=0
            ),
        )
        return actor_class.remote(self.command)

    # -- the end -------------------------------------------------------------------------------

    def ask_to_stop(self, grace: float) -> Any:
        """Stop watching; a running node is asked to stop (its object ref), else None. Not an
        actor still waiting for a place (its Ray node is gone): it would never answer."""
        self.stopping = True
        if self.task is not None:
            self.task.cancel()
        return self.actor.stop.remote(grace) if self.running else None

    def remove(self) -> None:
        """Kill the actor (its node goes with it) and remove the placement group."""
        self.stopping = True
        if self.task is not None:
            self.task.cancel()
        if self.actor is not None:
            with contextlib.suppress(Exception):
                self.ray.kill(self.actor, no_restart=True)
        self._remove_group()

    def _remove_group(self) -> None:
        from ray.util.placement_group import remove_placement_group

        if self.group is not None:
            with contextlib.suppress(Exception):
                remove_placement_group(self.group)
            self.group = None


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
