"""The ``holdemd`` command: train, evaluate and export strategies.

This is the process edge: a `HoldemdError` becomes one line on stderr and its exit code; only a
bug shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from holdemd import __version__
from holdemd.config.overrides import add_run_flags, dotted_overrides, given_flags
from holdemd.errors import ExitCode, HoldemdError, UsageError
from holdemd.games.kinds import game_kind

log = logging.getLogger("holdemd")


class _WholeNamesParser(argparse.ArgumentParser):
    """Takes options by their whole name only.

    With argparse's default prefix matching, ``train --snapshot NAME`` (a flag of ``eval``) was
    read as ``--snapshot-interval NAME``. Subcommand parsers are made from the parent's class, so
    setting it here covers every ``holdemd`` parser.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _WholeNamesParser(
        prog="holdemd",
        description="Train poker blueprint strategies with external-sampling MCCFR.",
    )
    parser.add_argument("--version", action="version", version=f"holdemd {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
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
    _add_log_level(train)
    train.set_defaults(handler=cmd_train)

    serve = commands.add_parser(
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
    _add_log_level(serve)
    serve.set_defaults(handler=cmd_serve)

    evaluate = commands.add_parser(
        "eval",
        help="measure a snapshot: exact exploitability (small games), head-to-head, or LBR",
        description="Evaluate the average strategy of a snapshot. Without --vs or --lbr: "
        "exactly, for games whose deals can be enumerated (Kuhn, Leduc, fixed-board Hold'em): "
        "exploitability ((BR0 + BR1) / 2, chips per game) and player 0's game value. "
        "--vs plays it against bots or another snapshot with duplicate deals; --lbr measures "
        "a local best response (heads-up Hold'em). Results are mbb/hand (chips per game for "
        "Kuhn and Leduc) with a 95% confidence interval over deals. --curve measures every "
        "snapshot of the run alike, one row each (--plot draws it).",
    )
    evaluate.add_argument(
        "--run", type=Path, required=True, help="run directory (train's --logdir)"
    )
    evaluate.add_argument(
        "--snapshot",
        metavar="NAME",
        help="snapshot name; first / latest: the oldest / newest kept (default: the latest)",
    )
    evaluate.add_argument(
        "--vs",
        metavar="LIST",
        help="opponents, comma-separated: random, call, raise, snapshot:NAME (another snapshot "
        "of the run; snapshot:first is the oldest kept); with --curve, none for no head-to-head",
    )
    evaluate.add_argument(
        "--lbr",
        action="store_true",
        help="local best response: a lower bound on exploitability (heads-up Hold'em)",
    )
    evaluate.add_argument(
        "--hands",
        type=int,
        metavar="N",
        help="deals to play, each once per seat (default: 100,000 with --vs, 5,000 with --lbr)",
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the deals (default: 0)"
    )
    evaluate.add_argument(
        "--actions",
        choices=["expected", "sampled"],
        help="--vs: weight every action by its probability, or sample them (default: expected "
        "for trees up to 2,000 nodes, else sampled)",
    )
    evaluate.add_argument(
        "--lbr-bets",
        metavar="LIST",
        help="--lbr: LBR's bet sizes as pot fractions and/or allin, e.g. 1,allin; each maps to "
        "the nearest bet of the tree (default: every bet the tree offers)",
    )
    evaluate.add_argument(
        "--lbr-preflop",
        choices=["call", "fold-call", "greedy"],
        help="--lbr: LBR preflop always calls, picks fold or call, or also raises (default: "
        "fold-call; greedy on a fixed board)",
    )
    evaluate.add_argument(
        "--curve",
        action="store_true",
        help="the quality curve: every snapshot kept, oldest first, on the same deals; exact "
        "exploitability (small games), --vs (default elsewhere: random,call,snapshot:first), "
        "--lbr",
    )
    evaluate.add_argument(
        "--lbr-hands",
        type=int,
        metavar="M",
        help="--curve --lbr: LBR deals per snapshot (default: 5,000; --hands is for --vs)",
    )
    evaluate.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="--curve: also draw it as a PNG line chart (x: iterations, 95%% error bars)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=cmd_eval)

    from holdemd.tree_cli import add_tree_parser

    add_tree_parser(commands)

    from holdemd.abstraction.cli import add_buckets_parser

    add_buckets_parser(commands)

    strategy = commands.add_parser("strategy", help="work with trained strategies")
    strategy_commands = strategy.add_subparsers(
        dest="strategy_command", metavar="COMMAND", required=True
    )
    export = strategy_commands.add_parser(
        "export",
        help="write the average strategy as JSON",
        description="Write the average strategy as one JSON object mapping an infoset key "
        "(e.g. 'QK:rc/r') to action probabilities (Kuhn [pass, bet]; Leduc [fold, call, raise]).",
    )
    export.add_argument("--run", type=Path, required=True, help="run directory (train's --logdir)")
    export.add_argument("--out", type=Path, required=True, help="JSON file to write")
    export.add_argument("--snapshot", metavar="NAME", help="snapshot name (default: the latest)")
    export.set_defaults(handler=cmd_strategy_export)

    from holdemd.lookup.history import HISTORY_HELP

    seat_help = (
        "the seat to act: heads-up BTN (= SB, acts first preflop) or BB; 6-max UTG, HJ, CO, "
        "BTN, SB, BB; Kuhn/Leduc P0, P1. Without --history: its first decision when everyone "
        "before it folds; with --history: checked against the player to act"
    )
    show = strategy_commands.add_parser(
        "show",
        help="what the blueprint plays with one hand at one decision",
        description="Print the action probabilities (fold / call / each bet size) of the "
        "average strategy at the decision --history leads to, for --hand, with the bucket the "
        "hand falls in. Example: holdemd strategy show --run runs/hunl --hand AsKs "
        "--history 'r3 c' --board AhKd7c. Bet sizes off the tree map to the nearest tree size "
        "(by pot fraction) and the output says so.",
    )
    show.add_argument("--run", type=Path, required=True, help="run directory (train's --logdir)")
    show.add_argument("--snapshot", metavar="NAME", help="snapshot name (default: the latest)")
    show.add_argument(
        "--hand",
        required=True,
        help="hole cards, e.g. AsKs (preflop also a class: AKs, 72o, TT); Kuhn/Leduc: J, Q or K",
    )
    show.add_argument(
        "--board",
        default="",
        metavar="CARDS",
        help="the board on the decision's street, e.g. AhKd7c (Leduc: the public card)",
    )
    show.add_argument("--history", metavar="ACTIONS", help=HISTORY_HELP)
    show.add_argument("--seat", metavar="SEAT", help=seat_help)
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=cmd_strategy_show)

    chart = strategy_commands.add_parser(
        "chart",
        help="every hand's raise/call/fold frequencies at one decision (13x13 preflop chart)",
        description="Print what the average strategy plays with every hand at one decision: "
        "preflop in Hold'em the usual 13x13 chart (pairs on the diagonal, suited hands above "
        "it, offsuit below) of raise, call and fold percentages, elsewhere a list of buckets. "
        "Example: holdemd strategy chart --run runs/hunl --seat BTN --png btn.png",
    )
    chart.add_argument("--run", type=Path, required=True, help="run directory (train's --logdir)")
    chart.add_argument("--snapshot", metavar="NAME", help="snapshot name (default: the latest)")
    chart.add_argument("--seat", metavar="SEAT", help=seat_help)
    chart.add_argument("--history", metavar="ACTIONS", help=HISTORY_HELP)
    chart.add_argument(
        "--sizes", action="store_true", help="one grid per raise size instead of one for all"
    )
    chart.add_argument(
        "--png", type=Path, metavar="FILE", help="also draw the 13x13 chart into a PNG image"
    )
    chart.add_argument("--json", action="store_true", help="print one JSON object")
    chart.set_defaults(handler=cmd_strategy_chart)
    return parser


def _add_log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="default: info",
    )


def setup_logging(level: str, log_file: Path | None = None) -> None:
    from holdemd.rundir.logs import ResilientFileHandler
    from holdemd.training.live_line import LiveLineHandler

    root = logging.getLogger("holdemd")
    root.setLevel(getattr(logging, level.upper()))
    root.handlers.clear()
    console = LiveLineHandler()  # prints above `holdemd train`'s live progress line
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = ResilientFileHandler(str(log_file))
        root.addHandler(to_file)


def _train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return dotted_overrides(given_flags(args))


def cmd_train(args: argparse.Namespace) -> int:
    import asyncio

    from holdemd.training.live_line import LIVE_LINE
    from holdemd.training.plan import build_supervisor, plan_run

    if args.resume is not None and not args.resume and args.logdir is None:
        raise UsageError("--resume needs a run directory or snapshot, or --logdir")
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
    supervisor = build_supervisor(plan)
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
    options = ServiceOptions(
        state_dir=state_dir,
        runtime_dir=runtime_dir,
        default_config=args.config.absolute() if args.config else None,
        socket_group=group,
    )
    setup_logging(args.log_level, state_dir / "logs" / "daemon.log")
    # A watchdog timeout ends in SIGABRT: print every thread's Python stack to the journal.
    faulthandler.enable()
    return asyncio.run(Service(options).serve())


def cmd_eval(args: argparse.Namespace) -> int:
    from holdemd.evaluation.command import (
        check_exact_flags,
        resolve_snapshot_name,
        run_eval_command,
    )
    from holdemd.evaluation.curve import refuse_curve_flags, run_curve_command
    from holdemd.rundir.load import load_snapshot
    from holdemd.solver.exact import ExactEvaluator
    from holdemd.solver.tables import average_strategy

    if args.curve:
        return run_curve_command(args)
    refuse_curve_flags(args)
    if args.vs is not None or args.lbr:
        return run_eval_command(args)
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    check_exact_flags(args, loaded.game)
    evaluator = ExactEvaluator(loaded.game)
    policy = average_strategy(loaded.game, loaded.tables.strategy_sum)
    exploitability = evaluator.exploitability(policy)
    value = evaluator.game_value(policy)
    known = game_kind(loaded.game.name).equilibrium_value
    if args.json:
        print(
            json.dumps(
                {
                    "run": str(args.run),
                    "snapshot": loaded.info.name,
                    "game": loaded.game.name,
                    "iteration": loaded.manifest.get("iteration"),
                    "exploitability": exploitability,
                    "nash_conv": 2 * exploitability,
                    "game_value": value,
                    "equilibrium_value": known,
                }
            )
        )
    else:
        iteration = loaded.manifest.get("iteration")
        print(f"{loaded.game.name}, snapshot {loaded.info.name} ({iteration:,} iterations)")
        print(f"exploitability  {exploitability:.6f} chips/game")
        reference = f"   (equilibrium {known:.6f})" if known is not None else ""
        print(f"game value      {value:.6f} for player 0{reference}")
    return ExitCode.OK


def cmd_strategy_export(args: argparse.Namespace) -> int:
    from holdemd.rundir.load import load_snapshot
    from holdemd.solver.tables import average_strategy
    from holdemd.strategy_export import strategy_to_json, write_json_atomic

    loaded = load_snapshot(args.run, args.snapshot)
    data = strategy_to_json(loaded.game, average_strategy(loaded.game, loaded.tables.strategy_sum))
    try:
        write_json_atomic(args.out, data)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from exc
    print(
        f"wrote {len(data)} infosets of {loaded.game.name} (snapshot {loaded.info.name}) "
        f"to {args.out}"
    )
    return ExitCode.OK


def cmd_strategy_show(args: argparse.Namespace) -> int:
    from holdemd.lookup.blueprint import Blueprint
    from holdemd.lookup.show import look_up, lookup_json, lookup_lines

    blueprint = Blueprint.from_run(args.run, args.snapshot)
    result = look_up(blueprint, args.hand, args.board, args.history, args.seat)
    if args.json:
        print(json.dumps(lookup_json(result)))
    else:
        print("\n".join(lookup_lines(result)))
    return ExitCode.OK


def cmd_strategy_chart(args: argparse.Namespace) -> int:
    from holdemd.lookup.blueprint import Blueprint
    from holdemd.lookup.chart import chart_json, chart_lines, make_chart

    blueprint = Blueprint.from_run(args.run, args.snapshot)
    chart = make_chart(blueprint, args.history, args.seat)
    if args.png is not None:
        from holdemd.lookup.chart_png import write_chart_png

        write_chart_png(chart, args.png)
    if args.json:
        print(json.dumps(chart_json(chart)))
    else:
        print("\n".join(chart_lines(chart, by_size=args.sizes)))
        if args.png is not None:
            print(f"wrote the chart to {args.png}")
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except HoldemdError as exc:
        print(f"holdemd: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("holdemd: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
