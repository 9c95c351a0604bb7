"""``holdemd serve``: the training daemon, in the foreground (systemd and launchd supervise it)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from holdemd.cli.common import add_log_level, setup_logging
from holdemd.errors import UsageError

log = logging.getLogger("holdemd")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``serve`` on the ``holdemd`` subparsers."""
    serve = subparsers.add_parser(
        "serve",
        help="run the training daemon in the foreground, driven by holdemctl",
        description="Run the training daemon in the foreground (systemd and launchd supervise "
        "it; see systemd/README.md). It locks its state directory and its socket, listens on "
        "RUNTIME_DIR/control.sock and idles until `holdemctl start` starts a run; it refuses "
        "a state or runtime directory that another user owns or may write to. A run it "
        "was training when it was killed is resumed from its last snapshot. SIGTERM stops the "
        "run with a final snapshot and exits 0; SIGHUP reopens log files.",
    )
    serve.add_argument(
        "--config",
        type=Path,
        help="the config `holdemctl start` uses when it names none (checked at start-up)",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        help="runs, logs, the lock and the active-run record (default: $STATE_DIRECTORY, "
        "else ~/.local/state/holdemd; macOS: ~/Library/Application Support/holdemd)",
    )
    serve.add_argument(
        "--runtime-dir",
        type=Path,
        help="where control.sock is bound (default: $RUNTIME_DIRECTORY, else "
        "$XDG_RUNTIME_DIR/holdemd or /tmp/holdemd-UID)",
    )
    serve.add_argument(
        "--socket-group",
        metavar="GROUP",
        help="also let this group use the read-only commands (socket mode 0660)",
    )
    serve.add_argument(
        "--listen",
        metavar="tcp://ADDR:PORT",
        help="every run leads a multi-host run: `holdemd node --connect` on other hosts join "
        "here (needs --keys)",
    )
    serve.add_argument(
        "--keys",
        type=Path,
        metavar="DIR",
        help="with --listen: the head's CURVE keys and the hosts allowed in "
        "(`holdemd keys init DIR --hosts NAME...`; under systemd: $CREDENTIALS_DIRECTORY)",
    )
    serve.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="with --listen: every run places a `holdemd node` on every other node of this Ray "
        "cluster, also on nodes that join it during the run (as ray.init takes it: auto, "
        "HOST:6379, ray://HOST:10001; pip install 'holdemd[ray]')",
    )
    add_log_level(serve)
    serve.set_defaults(handler=cmd_serve)
    return serve


def _check_private_dir(path: Path, what: str, choose: str) -> None:
    """Create ``path`` if needed; refuse it if someone else could replace what the daemon keeps
    there (its socket: clients would talk to an impostor; its state: runs it would resume)."""
    from holdemd.protocol.paths import private_dir_problem

    try:
        problem = private_dir_problem(path)
    except OSError as exc:
        raise UsageError(
            f"{what} {path}: {exc.strerror or exc}; fix it, or choose another with {choose}"
        ) from None
    if problem is not None:
        raise UsageError(f"{what} {problem}, or choose another with {choose}")


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio
    import faulthandler
    import grp

    from holdemd.config.loader import load_config
    from holdemd.protocol.paths import default_runtime_dir, default_state_dir
    from holdemd.service.daemon import Service, ServiceOptions

    if args.ray:  # before anything is made, as for train
        from holdemd.hosts.ray_plan import check_ray_flags

        check_ray_flags(args.ray, args.listen)
    group = None
    if args.socket_group is not None:
        try:
            group = grp.getgrnam(args.socket_group).gr_gid
        except KeyError:
            raise UsageError(f"--socket-group {args.socket_group}: no such group") from None
    if args.config is not None:
        load_config(args.config)  # a bad default config fails now, not at the first start
    state_dir = (args.state_dir or default_state_dir()).absolute()
    runtime_dir = (args.runtime_dir or default_runtime_dir()).absolute()
    # Before the log file is opened in it: a directory someone else controls is refused whole.
    _check_private_dir(state_dir, "state directory", "--state-dir or $XDG_STATE_HOME")
    _check_private_dir(runtime_dir, "runtime directory", "--runtime-dir or $XDG_RUNTIME_DIR")
    if args.listen or args.keys:
        from holdemd.hosts.head import check_listen
        from holdemd.hosts.keys import load_head_keys

        if not args.listen:
            raise UsageError("--keys is for a multi-host head: give --listen tcp://ADDR:PORT")
        check_listen(args.listen, args.keys)
        load_head_keys(args.keys)  # a bad key directory fails now, not at the first start
    options = ServiceOptions(
        state_dir=state_dir,
        runtime_dir=runtime_dir,
        default_config=args.config.absolute() if args.config else None,
        socket_group=group,
        listen=args.listen or "",
        keys=args.keys.absolute() if args.keys else None,
        ray=args.ray or "",
    )
    setup_logging(args.log_level, state_dir / "logs" / "daemon.log")
    # A watchdog timeout ends in SIGABRT: print every thread's Python stack to the journal.
    faulthandler.enable()
    return asyncio.run(Service(options).serve())
