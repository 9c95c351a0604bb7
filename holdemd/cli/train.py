"""``holdemd train``: a run in the foreground, with a live progress line in a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any

from holdemd import __version__
from holdemd.cli.common import add_log_level, setup_logging
from holdemd.config.overrides import add_run_flags, dotted_overrides, given_flags
from holdemd.errors import ExitCode, UsageError
from holdemd.games.kinds import game_kind

log = logging.getLogger("holdemd")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``train`` on the ``holdemd`` subparsers."""
    train = subparsers.add_parser(
        "train",
        help="train in the foreground with parallel workers until the budget is spent",
        description="Train a strategy in the foreground: a supervisor process merges the work "
        "of worker processes (one per core by default). Flags override the config file. "
        "Ctrl-C or SIGTERM stops at the end of the workers' batches with a final snapshot "
        "(exit 0); a second Ctrl-C forces.",
    )
    train.add_argument(
        "--config",
        type=Path,
        help="YAML config, e.g. configs/leduc.yaml (default with --resume: the run's own)",
    )
    train.add_argument(
        "--logdir",
        type=Path,
        help="run directory for snapshots, logs, TensorBoard and status.json "
        "(default: runs/<config>-<time>, or the resumed run's)",
    )
    add_run_flags(train)
    train.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="RUN_DIR|SNAPSHOT",
        help="continue a run from its latest snapshot (or the given one): "
        "iterations, elapsed time and tables carry on",
    )
    train.add_argument(
        "--listen",
        metavar="tcp://ADDR:PORT",
        help="lead a multi-host run: `holdemd node --connect` on other hosts join here "
        "(needs --keys)",
    )
    train.add_argument(
        "--keys",
        type=Path,
        metavar="DIR",
        help="with --listen: the head's CURVE keys and the hosts allowed in "
        "(`holdemd keys init DIR --hosts NAME...`)",
    )
    train.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="with --listen: place a `holdemd node` on every other node of this Ray cluster, "
        "also on nodes that join it during the run (as ray.init takes it: auto, HOST:6379, "
        "ray://HOST:10001; pip install 'holdemd[ray]')",
    )
    add_log_level(train)
    train.set_defaults(handler=cmd_train)
    return train


def _train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return dotted_overrides(given_flags(args))


def cmd_train(args: argparse.Namespace) -> int:
    import asyncio

    from holdemd.cli.live_line import LIVE_LINE
    from holdemd.training.plan import build_run, plan_run

    if args.resume is not None and not args.resume and args.logdir is None:
        raise UsageError("--resume needs a run directory or snapshot, or --logdir")
    if args.ray:
        from holdemd.hosts.ray_plan import check_ray_flags

        check_ray_flags(args.ray, args.listen)
    if args.listen or args.keys:
        from holdemd.hosts.head import check_listen
        from holdemd.hosts.keys import load_head_keys

        if not args.listen:
            raise UsageError("--keys is for a multi-host run's head: give --listen tcp://ADDR:PORT")
        load_head_keys(check_listen(args.listen, args.keys))  # before the game is built
    # Console logging only until the game and its buckets have loaded: a mistake found there
    # (a missing bucket file, tables too big) must not leave an empty run directory behind.
    # Set up before planning, so that its warnings (a small batch size) show.
    setup_logging(args.log_level)
    plan = plan_run(
        args.config,
        _train_overrides(args),
        resume=Path(args.resume) if args.resume else None,
        resume_latest_in=args.logdir if args.resume == "" else None,
        logdir=args.logdir,
    )
    config, run_dir, resume = plan.config, plan.run_dir, plan.resume
    if plan.game is None:
        log.info(
            "building the %s game%s",
            config.game.name,
            "; a first run on this machine also builds the river bucket table (cached)"
            if game_kind(config.game.name).needs_buckets
            else "",
        )
    if args.listen:
        options = dataclasses.replace(
            plan.options, listen=args.listen, keys=args.keys, ray=args.ray or ""
        )
        plan = dataclasses.replace(plan, options=options)
    if sys.stderr.isatty():  # the progress line redrawn in place, fitted to the terminal
        options = dataclasses.replace(plan.options, show_progress=LIVE_LINE.show)
        plan = dataclasses.replace(plan, options=options)
    supervisor = build_run(plan)
    setup_logging(args.log_level, run_dir / "logs" / "train.log")
    log.info("holdemd %s: run directory %s", __version__, run_dir)
    if resume is not None:
        log.info(
            "resuming from %s at iteration %s (%s trained)",
            resume.source,
            f"{resume.iteration:,}",
            f"{resume.elapsed:.0f} s",
        )
    try:
        result = asyncio.run(supervisor.run())
    finally:
        LIVE_LINE.finish()
    known = game_kind(config.game.name).equilibrium_value
    print(
        f"trained {config.game.name}: {result.iterations:,} iterations in "
        f"{result.elapsed_seconds:.1f} s ({result.stopped_by})"
    )
    if result.exploitability is not None and result.game_value is not None:
        reference = f" (equilibrium {known:.6f})" if known is not None else ""
        print(
            f"exploitability {result.exploitability:.6f} chips/game; "
            f"game value {result.game_value:.6f}{reference}"
        )
    if result.snapshot is not None:
        print(f"snapshot {result.snapshot.path}")
    return ExitCode.OK
