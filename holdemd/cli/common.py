"""What every ``holdemd`` subcommand shares: whole option names, the log level, logging."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


class WholeNamesParser(argparse.ArgumentParser):
    """Takes options by their whole name only.

    With argparse's default prefix matching, ``train --snapshot NAME`` (a flag of ``eval``) was
    read as ``--snapshot-interval NAME``. Subcommand parsers are made from the parent's class, so
    setting it here covers every ``holdemd`` parser.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def add_log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="default: info",
    )


def setup_logging(level: str, log_file: Path | None = None) -> None:
    from holdemd.cli.live_line import LiveLineHandler
    from holdemd.rundir.logs import ResilientFileHandler

    root = logging.getLogger("holdemd")
    root.setLevel(getattr(logging, level.upper()))
    for handler in root.handlers:  # a previous set-up's log file (tests call main twice)
        handler.close()
    root.handlers.clear()
    console = LiveLineHandler()  # prints above `holdemd train`'s live progress line
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = ResilientFileHandler(str(log_file))
        root.addHandler(to_file)


def add_blueprint_source(parser: argparse.ArgumentParser) -> None:
    """``--run DIR [--snapshot NAME]`` or ``--blueprint FILE``: where a strategy is read from."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="run directory (train's --logdir)")
    source.add_argument(
        "--blueprint", type=Path, metavar="FILE", help="a blueprint file (holdemd blueprint export)"
    )
    parser.add_argument(
        "--snapshot", metavar="NAME", help="with --run: snapshot name (default: the latest)"
    )


def open_blueprint_source(args: argparse.Namespace) -> Any:
    """The `holdemd.blueprint.api.Blueprint` that `add_blueprint_source`'s options name."""
    from holdemd.blueprint.api import Blueprint
    from holdemd.errors import UsageError

    if args.blueprint is not None:
        if args.snapshot is not None:
            raise UsageError("--snapshot: a blueprint file holds one snapshot; drop --snapshot")
        if args.blueprint.is_dir():
            raise UsageError(
                f"--blueprint {args.blueprint}: a directory; give a blueprint file, or --run DIR"
            )
        return Blueprint.open(args.blueprint)
    if not args.run.is_dir():
        from holdemd.rundir.load import load_snapshot

        load_snapshot(args.run, args.snapshot)  # raises the usual one-line error
    return Blueprint.open(args.run, args.snapshot)
