"""``holdemd node``: lend this host's cores to a run led by a head on another machine."""

from __future__ import annotations

import argparse
import logging
import socket
from pathlib import Path
from typing import Any

from holdemd.cli.common import add_log_level, setup_logging
from holdemd.errors import ExitCode

log = logging.getLogger("holdemd")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``node`` on the ``holdemd`` subparsers."""
    node = subparsers.add_parser(
        "node",
        help="run workers for a multi-host run whose head listens elsewhere",
        description="Join the run of a head started with `holdemd train --listen tcp://ADDR:PORT "
        "--keys DIR`: build its game, keep a replica of its regret table and train it with "
        "local workers, sending their work to the head as each worker batch comes in (one "
        "message in flight; at least every --sync-interval seconds). The link is "
        "CURVE-encrypted and authenticated both ways. A lost head pauses the workers and "
        "the node reconnects; after a run ends it waits for the next one (--once: exits).",
    )
    node.add_argument(
        "--connect",
        required=True,
        metavar="tcp://HEAD:PORT",
        help="the head's --listen address",
    )
    node.add_argument(
        "--keys",
        type=Path,
        required=True,
        metavar="DIR",
        help="this host's secret key NAME.key_secret and the head's public key head.key "
        "(from `holdemd keys init`; a flat directory such as systemd's $CREDENTIALS_DIRECTORY "
        "works)",
    )
    node.add_argument(
        "--name",
        default=socket.gethostname().split(".")[0],
        help="this host's name in the key directory (default: the short host name)",
    )
    node.add_argument(
        "--num-workers",
        type=int,
        default=0,
        metavar="N",
        help="worker processes on this host (default: one per core)",
    )
    node.add_argument(
        "--sync-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="the longest the workers' combined work waits before it goes to the head when "
        "less than a worker batch of it is pending (default: 1)",
    )
    node.add_argument(
        "--once",
        action="store_true",
        help="exit when the head's run ends instead of waiting for the next run",
    )
    add_log_level(node)
    node.set_defaults(handler=cmd_node)
    return node


def cmd_node(args: argparse.Namespace) -> int:
    import asyncio

    from holdemd.errors import UsageError
    from holdemd.hosts.keys import load_node_keys
    from holdemd.hosts.node import HostNode, NodeOptions, check_connect
    from holdemd.training.plan import available_cores

    setup_logging(args.log_level)
    if args.num_workers < 0:
        raise UsageError(f"--num-workers {args.num_workers}: expected 0 (one per core) or more")
    if not 0.05 <= args.sync_interval <= 60:
        raise UsageError(f"--sync-interval {args.sync_interval}: expected 0.05 to 60 seconds")
    keys = load_node_keys(args.keys, args.name)
    options = NodeOptions(
        connect=check_connect(args.connect),
        name=args.name,
        num_workers=args.num_workers or available_cores(),
        sync_interval=args.sync_interval,
        once=args.once,
    )
    log.info(
        "node %s: %d worker(s), joining the head at %s",
        options.name,
        options.num_workers,
        options.connect,
    )
    return asyncio.run(HostNode(options, keys).run()) or int(ExitCode.OK)
