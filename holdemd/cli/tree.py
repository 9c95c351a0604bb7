"""``holdemd tree``: what a config's betting tree and tables cost, counted before anything is
built.

Wired into ``holdemd.cli`` with :func:`add_tree_parser`. The count comes first and alone answers
for a tree or tables too big for memory (exit 2, the estimate in the message); a tree that fits
is then built, and a last line says whether it came out as counted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.errors import ExitCode

if TYPE_CHECKING:  # imported when the command runs: `holdemd --help` must not load numba
    from holdemd.games.report import TreeReport


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``tree`` on an argparse subparsers object."""
    tree: argparse.ArgumentParser = subparsers.add_parser(
        "tree",
        help="count a config's betting tree, infoset rows and table memory",
        description="Print node and decision counts per street, infoset rows for the "
        "configured buckets, and the memory the tables will need, without allocating them: "
        "dense tables, and lazily allocated ones with every node's block allocated (their "
        "most), and which of the two the config keeps (solver.tables). "
        "The tree is counted first, without building it (a fraction of a second); when a run "
        "fits in memory (the tree, the card tables, the tables at the start of the run, dense "
        "ones whole with a snapshot's copy of them) the tree is then built to confirm the "
        "count, else the config is refused (exit 2).",
    )
    tree.add_argument("--config", type=Path, required=True, help="YAML config")
    tree.add_argument("--json", action="store_true", help="print one JSON object")
    tree.set_defaults(handler=cmd_tree)
    return tree


def cmd_tree(args: argparse.Namespace) -> int:
    from holdemd.config.loader import load_config
    from holdemd.games.memory_check import check_countable, check_fits, growth_note
    from holdemd.games.report import count_for, report_for
    from holdemd.games.tree_size import TreeTooLargeToCount

    source = str(args.config)
    config = load_config(args.config)
    try:
        counted = count_for(config)
    except TreeTooLargeToCount as stop:
        check_countable(stop, config, source)  # refuses when what was counted cannot fit
        print("too many betting states to count: building the tree", file=sys.stderr)
        _print(report_for(config), args.json)
        return ExitCode.OK
    _print(counted, args.json)
    if not counted.counted:  # Kuhn and Leduc are built to be counted
        return ExitCode.OK
    sys.stdout.flush()  # the count shows while a big tree builds
    check_fits(counted, source)
    note = growth_note(counted, source)
    if note is not None:
        print(f"holdemd: note: {note}", file=sys.stderr)
    built = report_for(config)
    same = built == dataclasses.replace(counted, counted=False)
    print(
        f"built the tree: {built.nodes:,} nodes, {built.rows:,} infoset rows, "
        f"{'as counted' if same else 'NOT as counted: please report this bug'}",
        file=sys.stderr if args.json else sys.stdout,
    )
    return ExitCode.OK


def _print(report: TreeReport, as_json: bool) -> None:
    from holdemd.games.memory_check import available_memory
    from holdemd.games.report_text import report_lines

    if as_json:
        data = dataclasses.asdict(report)
        data["nodes"] = report.nodes
        data["memory_needed_bytes"] = report.memory_needed  # what the memory check compares
        data["memory_fully_grown_bytes"] = report.memory_fully_grown  # every block, no snapshot
        data["memory_fully_grown_snapshot_bytes"] = report.memory_fully_grown_snapshot
        data["available_memory_bytes"] = available_memory()
        print(json.dumps(data))
    else:
        print("\n".join(report_lines(report)))
